// Turns a parsed /oauth/* body into the flat string parameters of RFC 6749 (docs/resellers.md):
// JSON and form bodies alike, empty strings as omitted (§3.2), repeated or non-string
// parameters rejected (§3.1: parameters MUST NOT be included more than once), a numeric
// client_id accepted as Passport integrations send it.
import { BODY_SHAPE_HINT, InvalidRequestError } from '../errors.js';

/** Parameters that must never travel in a URL, where logs and proxies keep them. */
const CONFIDENTIAL = ['client_id', 'client_secret', 'username', 'password', 'refresh_token', 'token'];

export const MAX_PARAMETER_LENGTH = 4096;

export function rejectQueryCredentials(query: unknown): void {
  if (query && typeof query === 'object') {
    const found = CONFIDENTIAL.find((name) => Object.hasOwn(query, name));
    if (found) throw new InvalidRequestError(`Credentials are not accepted in the query string: send \`${found}\` in the request body`);
  }
}

export function normaliseParameters(body: unknown): Record<string, string> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidRequestError(BODY_SHAPE_HINT);
  }
  const params: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(body)) {
    if (value === '' || value === null || value === undefined) continue;
    if (Array.isArray(value)) throw new InvalidRequestError(`Check the \`${name}\` parameter: it is given more than once`);
    let text: string;
    // Laravel's TrimStrings middleware trimmed every string but passwords before Passport saw it
    // (then ConvertEmptyStringsToNull): clients that sent " 19" or a secret ending in "\n" worked.
    if (typeof value === 'string') text = name === 'password' ? value : value.trim();
    else if (name === 'client_id' && typeof value === 'number' && Number.isSafeInteger(value) && value > 0) text = String(value);
    else throw new InvalidRequestError(`Check the \`${name}\` parameter: it must be a string`);
    if (text === '') continue;
    if (text.length > MAX_PARAMETER_LENGTH)
      throw new InvalidRequestError(`Check the \`${name}\` parameter: it must be at most ${MAX_PARAMETER_LENGTH} characters`);
    params[name] = text;
  }
  return params;
}
