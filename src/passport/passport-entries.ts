// One reseller-mapping entry checked against Passport's rows: the mapping must not contradict
// itself, and each entry must name a password-grant client with a secret, a user with an e-mail
// and a bcrypt (or argon2) hash, and well-formed allowed networks. Every problem is a conflict.
import { fieldDigest } from './field-merge.js';
import type { PassportClient, PassportUser } from './passport-rows.js';
import type { ResellerMapping } from './reseller-mapping.js';

export type SecretValue = { plain: string } | { hash: string };

export interface EntrySources {
  clients: Map<number, PassportClient>;
  users: Map<number, PassportUser>;
  /** Normalises an allow-list; returns an error message for a bad one. */
  parseNetworks(value: string): { ok: true; networks: string[] } | { ok: false; error: string };
  defaultAllowedNetworks: string[];
}

export interface ResolvedEntry {
  client: PassportClient;
  user: PassportUser;
  networks: string[];
  secret: SecretValue;
}

const BCRYPT_OR_ARGON2 = /^(\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}|\$argon2(id|i|d)\$.+)$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export function passportSecretValue(secret: string): SecretValue {
  // Passport::hashClientSecrets() stores password_hash() output; a plain secret never starts with "$2".
  return /^\$2[aby]\$/.test(secret) ? { hash: secret } : { plain: secret };
}

export function secretDigest(value: SecretValue): string {
  return fieldDigest('secret', 'plain' in value ? `plain:${value.plain}` : `hash:${value.hash}`);
}

/** Checks one mapping entry against Passport's rows; pushes conflicts and returns what to import. */
export function resolveEntry(entry: ResellerMapping, input: EntrySources, conflicts: string[]): ResolvedEntry | undefined {
  const client = input.clients.get(entry.clientId);
  const at = `reseller ${entry.resellerId} (${entry.origin})`;
  if (!client) return void conflicts.push(`${at}: Passport has no client ${entry.clientId}`);
  if (!client.passwordClient) return void conflicts.push(`${at}: Passport client ${client.id} is not a password-grant client`);
  if (client.secret === null)
    return void conflicts.push(`${at}: Passport client ${client.id} has no secret (a public client cannot authenticate here)`);
  const userId = entry.userId ?? client.userId;
  if (userId === null) {
    return void conflicts.push(`${at}: no user for client ${client.id}: give the user id in the mapping (oauth_clients.user_id is empty)`);
  }
  const user = input.users.get(userId);
  if (!user) return void conflicts.push(`${at}: Passport has no user ${userId}`);
  if (!EMAIL.test(user.email)) return void conflicts.push(`${at}: Passport user ${user.id} has no usable e-mail`);
  if (!BCRYPT_OR_ARGON2.test(user.password)) return void conflicts.push(`${at}: Passport user ${user.id}'s password is not a bcrypt or argon2 hash`);
  let networks = input.defaultAllowedNetworks;
  if (entry.allowedIp !== null) {
    const parsed = input.parseNetworks(entry.allowedIp.split(/[\s,]+/).join(','));
    if (!parsed.ok) return void conflicts.push(`${at}: allowed networks: ${parsed.error}`);
    networks = parsed.networks;
  }
  return { client, user, networks, secret: passportSecretValue(client.secret) };
}

/** Finds mapping entries that contradict each other (one client or user for two resellers, …). */
export function consistentEntries(mapping: ResellerMapping[], clients: Map<number, PassportClient>, conflicts: string[]): ResellerMapping[] {
  const byReseller = new Map<string, ResellerMapping>();
  const resellerOfClient = new Map<number, string>();
  const resellerOfUser = new Map<number, string>();
  const unique: ResellerMapping[] = [];
  for (const entry of mapping) {
    const seen = byReseller.get(entry.resellerId);
    if (seen) {
      if (seen.clientId !== entry.clientId)
        conflicts.push(`reseller ${entry.resellerId} is mapped to clients ${seen.clientId} and ${entry.clientId}`);
      continue;
    }
    const other = resellerOfClient.get(entry.clientId);
    if (other !== undefined) {
      conflicts.push(`client ${entry.clientId} is mapped to resellers ${other} and ${entry.resellerId}`);
      continue;
    }
    const userId = entry.userId ?? clients.get(entry.clientId)?.userId ?? null;
    const otherUser = userId === null ? undefined : resellerOfUser.get(userId);
    if (userId !== null && otherUser !== undefined) {
      conflicts.push(`Passport user ${userId} would be the user of resellers ${otherUser} and ${entry.resellerId}`);
      continue;
    }
    byReseller.set(entry.resellerId, entry);
    resellerOfClient.set(entry.clientId, entry.resellerId);
    if (userId !== null) resellerOfUser.set(userId, entry.resellerId);
    unique.push(entry);
  }
  return unique;
}
