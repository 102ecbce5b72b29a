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

// One function for both reads, whose plan PostgreSQL keeps per connection; its migration
// (prisma/migrations/20261203170000_token_request_read) says what it answers and why a function.
const READ = 'SELECT * FROM token_request_read($1, $2)';

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
    findById: (id) => withDatabase(async () => toClient((await sql.query<ClientRow>(READ, [id, null]))[0])),
    findWithUser: (id, email) =>
      withDatabase(async () => {
        const row = (await sql.query<ClientRow & UserColumns>(READ, [id, email.toLowerCase()]))[0];
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
