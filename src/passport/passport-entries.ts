// One reseller-mapping entry checked against Passport's rows: the mapping must not contradict
// itself, and each entry must name a password-grant client with a secret whose provider is the
// users table's, a user with an e-mail and a bcrypt (or argon2) hash, and well-formed allowed
// networks. An entry that fails is invalid: left out of the run and listed in the report, while
// every other entry is imported.
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
  /** The auth provider (config/auth.php) whose table is the users table; a client on another is left out. */
  usersProvider: string;
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

/** Checks one mapping entry against Passport's rows; pushes why it is invalid, or returns what to import. */
export function resolveEntry(entry: ResellerMapping, input: EntrySources, invalid: string[]): ResolvedEntry | undefined {
  const client = input.clients.get(entry.clientId);
  const at = `reseller ${entry.resellerId} (${entry.origin})`;
  if (!client) return void invalid.push(`${at}: Passport has no client ${entry.clientId}`);
  if (!client.passwordClient) return void invalid.push(`${at}: Passport client ${client.id} is not a password-grant client`);
  if (client.secret === null)
    return void invalid.push(`${at}: Passport client ${client.id} has no secret (a public client cannot authenticate here)`);
  if (client.provider !== null && client.provider !== input.usersProvider) {
    return void invalid.push(
      `${at}: Passport client ${client.id} authenticates users of provider "${client.provider}", not "${input.usersProvider}" (--users-provider, whose table is --users-table)`,
    );
  }
  const userId = entry.userId ?? client.userId;
  if (userId === null) {
    return void invalid.push(`${at}: no user for client ${client.id}: give the user id in the mapping (oauth_clients.user_id is empty)`);
  }
  const user = input.users.get(userId);
  if (!user) return void invalid.push(`${at}: Passport has no user ${userId}`);
  if (user.deleted) return void invalid.push(`${at}: Passport user ${user.id} is soft-deleted (deleted_at is set)`);
  if (!EMAIL.test(user.email)) return void invalid.push(`${at}: Passport user ${user.id} has no usable e-mail`);
  if (!BCRYPT_OR_ARGON2.test(user.password)) return void invalid.push(`${at}: Passport user ${user.id}'s password is not a bcrypt or argon2 hash`);
  let networks = input.defaultAllowedNetworks;
  if (entry.allowedIp !== null) {
    const parsed = input.parseNetworks(entry.allowedIp.split(/[\s,]+/).join(','));
    if (!parsed.ok) return void invalid.push(`${at}: allowed networks: ${parsed.error}`);
    networks = parsed.networks;
  }
  return { client, user, networks, secret: passportSecretValue(client.secret) };
}

/** What consistentEntries() has seen: kept across the batches of one run, so that a batch is checked against every earlier entry. */
export interface EntriesSeen {
  byReseller: Map<string, ResellerMapping>;
  resellerOfClient: Map<number, string>;
  resellerOfUser: Map<number, string>;
}

export function entriesSeen(): EntriesSeen {
  return { byReseller: new Map(), resellerOfClient: new Map(), resellerOfUser: new Map() };
}

/** Leaves out mapping entries that contradict an earlier one (one client or user for two resellers, …). */
export function consistentEntries(
  mapping: ResellerMapping[],
  clients: Map<number, PassportClient>,
  invalid: string[],
  seen: EntriesSeen = entriesSeen(),
): ResellerMapping[] {
  const { byReseller, resellerOfClient, resellerOfUser } = seen;
  const unique: ResellerMapping[] = [];
  for (const entry of mapping) {
    const earlier = byReseller.get(entry.resellerId);
    if (earlier) {
      if (earlier.clientId !== entry.clientId)
        invalid.push(`reseller ${entry.resellerId} is mapped to clients ${earlier.clientId} and ${entry.clientId}`);
      continue;
    }
    const other = resellerOfClient.get(entry.clientId);
    if (other !== undefined) {
      invalid.push(`client ${entry.clientId} is mapped to resellers ${other} and ${entry.resellerId}`);
      continue;
    }
    const userId = entry.userId ?? clients.get(entry.clientId)?.userId ?? null;
    const otherUser = userId === null ? undefined : resellerOfUser.get(userId);
    if (userId !== null && otherUser !== undefined) {
      invalid.push(`Passport user ${userId} would be the user of resellers ${otherUser} and ${entry.resellerId}`);
      continue;
    }
    byReseller.set(entry.resellerId, entry);
    resellerOfClient.set(entry.clientId, entry.resellerId);
    if (userId !== null) resellerOfUser.set(userId, entry.resellerId);
    unique.push(entry);
  }
  return unique;
}
