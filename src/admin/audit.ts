// The admin audit trail (docs/admin-api.md, "Errors, caching and audit"): one structured info line per admin change, saying who (by
// admin token id, never the token), what and which reseller or resource server. Field names
// only: a value that changed may be a secret, a password or an e-mail of the previous owner.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';

/** Who made a change: the id of the admin token used, or `cli` for the ops CLI. */
export interface Actor {
  adminTokenId: string;
}

export const CLI_ACTOR: Actor = { adminTokenId: 'cli' };

/** The first 8 hex characters of the token's SHA-256: names a token in logs without revealing it. */
export function adminTokenId(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 8);
}

export type AuditAction =
  | 'reseller.api.create'
  | 'reseller.api.update'
  | 'reseller.api.rotate-secret'
  | 'reseller.api.disable'
  | 'resource-server.create'
  | 'resource-server.remove';

export type AuditSubject = { resellerId: string; clientId: number } | { resourceServerId: string; clientId: number };

export function audit(log: Logger, actor: Actor, action: AuditAction, subject: AuditSubject, changed: readonly string[]): void {
  log.info({ audit: true, action, ...subject, adminTokenId: actor.adminTokenId, changed: [...changed] }, 'admin change');
}
