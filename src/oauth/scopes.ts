// Scopes (SCOPES, docs/configuration.md): a request may ask for any subset of the configured scopes; "" or none
// means no scope; Passport's "*" means all of them; anything else is invalid_scope.
import { InvalidScopeError } from '../errors.js';

export function resolveScopes(requested: readonly string[] | undefined, known: readonly string[]): string[] {
  if (!requested || requested.length === 0) return [];
  if (requested.includes('*')) return [...known];
  const unknown = requested.find((scope) => !known.includes(scope));
  if (unknown !== undefined) throw new InvalidScopeError(unknown);
  return [...new Set(requested)];
}
