// The reseller API users that the password grant authenticates.
import { withDatabase } from '../db/errors.js';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { PASSWORD_REHASH_KEY, rehashMarker } from '../passport/field-merge.js';

export interface UserRecord {
  id: number;
  email: string;
  name: string;
  resellerId: string;
  clientId: number;
  passwordHash: string;
  active: boolean;
}

export interface UsersRepository {
  /** Case-insensitive: e-mails are stored lower-cased (docs/admin-api.md). */
  findByEmail(email: string): Promise<UserRecord | null>;
  findById(id: number): Promise<UserRecord | null>;
  /** Replaces a hash without revoking tokens: used to upgrade an imported bcrypt hash after login. */
  upgradePasswordHash(id: number, oldHash: string, newHash: string): Promise<void>;
}

/**
 * One statement per lookup, the reseller's client id joined in, rather than a model query with
 * `include`, which reads the reseller with a second statement. Same shape whether or not a user
 * matches (an unknown e-mail is no row), so a lookup costs the same either way. The password grant
 * reads its user together with its client instead (clients-repository.ts, findWithUser).
 */
const SELECT_USER = Prisma.sql`
  SELECT u.id, u.email, u.name, u.reseller_id AS "resellerId", r.client_id AS "clientId",
         u.password_hash AS "passwordHash", u.active
  FROM users u JOIN resellers r ON r.reseller_id = u.reseller_id`;

export function createUsersRepository(prisma: PrismaClient): UsersRepository {
  return {
    findByEmail: (email) =>
      withDatabase(async () => {
        const rows = await prisma.$queryRaw<UserRecord[]>`${SELECT_USER} WHERE u.email = ${email.toLowerCase()}`;
        return rows[0] ?? null;
      }),
    findById: (id) =>
      withDatabase(async () => {
        const rows = await prisma.$queryRaw<UserRecord[]>`${SELECT_USER} WHERE u.id = ${id}`;
        return rows[0] ?? null;
      }),
    upgradePasswordHash: (id, oldHash, newHash) =>
      withDatabase(async () => {
        // Only if unchanged meanwhile: an admin's new password must win over a login's re-hash.
        // An imported user's row also records that the new hash is a re-hash (field-merge.ts), so
        // that the next Passport import does not take it for a password changed here.
        await prisma.$executeRaw`
          UPDATE users SET password_hash = ${newHash}, updated_at = now(),
            passport_import = CASE WHEN passport_import IS NULL THEN NULL
              ELSE passport_import || jsonb_build_object(${PASSWORD_REHASH_KEY}::text, ${rehashMarker(newHash)}::text) END
          WHERE id = ${id} AND password_hash = ${oldHash}`;
      }),
  };
}
