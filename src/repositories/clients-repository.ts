// Read access to OAuth clients, as the token, revoke and introspect endpoints need them.
import { withDatabase } from '../db/errors.js';
import type { Sql } from '../db/database.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Sealed } from '../security/secret-box.js';
import type { UserRecord } from './users-repository.js';

export interface OAuthClientRecord {
  id: number;
  kind: 'reseller' | 'resource_server';
  name: string;
  grants: string[];
  allowedNetworks: string[];
  active: boolean;
  /** Encrypted secret (shown again to admins), or null when only a hash was imported. */
  secret: Sealed | null;
  /** bcrypt hash of an imported Passport secret. */
  secretHash: string | null;
  resellerId: string | null;
}

export interface ClientsRepository {
  findById(id: number): Promise<OAuthClientRecord | null>;
  /**
   * The password grant's read: the client, and the user with that e-mail (case-insensitive; any
   * reseller's, the grant checks it is this client's), in one statement: the same work whether
   * either exists or not.
   */
  findWithUser(id: number, email: string): Promise<{ client: OAuthClientRecord | null; user: UserRecord | null }>;
  /**
   * Replaces an imported bcrypt secret, once it was presented and verified, by its sealed form:
   * later checks are a fast constant-time comparison. Only while `importedHash` is still the
   * stored one, so a rotation made meanwhile stands. True when it was replaced.
   */
  replaceImportedSecret(id: number, importedHash: string, sealed: Sealed): Promise<boolean>;
}

interface ClientRow {
  /** Null when no client has the id (the other columns are placeholders then). */
  id: number | null;
  kind: OAuthClientRecord['kind'];
  name: string;
  grants: string[];
  allowedNetworks: string[];
  active: boolean;
  secretCiphertext: string | null;
  secretKeyId: string | null;
  secretHash: string | null;
  resellerId: string | null;
}

/** The user columns of the password grant's read, null when no user has the e-mail. */
interface UserColumns {
  userId: number | null;
  userEmail: string;
  userName: string;
  userResellerId: string;
  userClientId: number;
  userPasswordHash: string;
  userActive: boolean;
}

// Always one row of the same shape, one statement whatever the outcome: an unknown id reads
// placeholders of a reseller client (the sizes of real values: a sealed 40-character secret is
// 92 base64 characters), so a known client id is not measurably slower to refuse than an unknown
// one (an existence oracle on /oauth/token and /oauth/revoke). $1 is the client id.
const CLIENT_COLUMNS = `c.id, COALESCE(c.kind::text, 'reseller') AS kind, COALESCE(c.name, 'Revenda placeholder') AS name,
  COALESCE(c.grants, ARRAY['password', 'refresh_token']) AS grants,
  COALESCE(c.allowed_networks, ARRAY['127.0.0.1/32']) AS "allowedNetworks", COALESCE(c.active, false) AS active,
  CASE WHEN c.id IS NULL THEN repeat('A', 92) ELSE c.secret_ciphertext END AS "secretCiphertext",
  CASE WHEN c.id IS NULL THEN repeat('0', 16) ELSE c.secret_key_id END AS "secretKeyId",
  c.secret_hash AS "secretHash", CASE WHEN c.id IS NULL THEN 'placeholder' ELSE r.reseller_id END AS "resellerId"`;
const CLIENT_JOIN = `FROM (SELECT 1) AS one
  LEFT JOIN clients c ON c.id = $1
  LEFT JOIN resellers r ON r.client_id = c.id`;

const SELECT_CLIENT = `SELECT ${CLIENT_COLUMNS} ${CLIENT_JOIN}`;

/** The client and, by e-mail ($2, lower-cased), a user with its reseller's client id: users-repository.ts's UserRecord. */
const SELECT_CLIENT_AND_USER = `SELECT ${CLIENT_COLUMNS},
  u.id AS "userId", u.email AS "userEmail", u.name AS "userName", u.reseller_id AS "userResellerId",
  ur.client_id AS "userClientId", u.password_hash AS "userPasswordHash", u.active AS "userActive"
  ${CLIENT_JOIN}
  LEFT JOIN users u ON u.email = $2
  LEFT JOIN resellers ur ON ur.reseller_id = u.reseller_id`;

function toClient(row: ClientRow | undefined): OAuthClientRecord | null {
  if (!row || row.id === null) return null;
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    grants: row.grants,
    allowedNetworks: row.allowedNetworks,
    active: row.active,
    secret: row.secretCiphertext && row.secretKeyId ? { keyId: row.secretKeyId, ciphertext: row.secretCiphertext } : null,
    secretHash: row.secretHash,
    resellerId: row.resellerId,
  };
}

function toUser(row: UserColumns | undefined): UserRecord | null {
  if (!row || row.userId === null) return null;
  return {
    id: row.userId,
    email: row.userEmail,
    name: row.userName,
    resellerId: row.userResellerId,
    clientId: row.userClientId,
    passwordHash: row.userPasswordHash,
    active: row.userActive,
  };
}

/**
 * Both reads are plain statements (db/database.ts, Sql): they run on every token request, where
 * Prisma's handling of a raw statement cost more CPU than PostgreSQL's work on it.
 */
export function createClientsRepository(prisma: PrismaClient, sql: Sql): ClientsRepository {
  return {
    findById: (id) => withDatabase(async () => toClient((await sql.query<ClientRow>(SELECT_CLIENT, [id]))[0])),
    findWithUser: (id, email) =>
      withDatabase(async () => {
        const row = (await sql.query<ClientRow & UserColumns>(SELECT_CLIENT_AND_USER, [id, email.toLowerCase()]))[0];
        return { client: toClient(row), user: toUser(row) };
      }),
    replaceImportedSecret: (id, importedHash, sealed) =>
      withDatabase(async () => {
        const { count } = await prisma.client.updateMany({
          where: { id, secretHash: importedHash, secretCiphertext: null },
          data: { secretCiphertext: sealed.ciphertext, secretKeyId: sealed.keyId, secretHash: null },
        });
        return count === 1;
      }),
  };
}
