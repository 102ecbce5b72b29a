// The reseller API users that the password grant authenticates.
import { withDatabase } from '../db/errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';

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
  /** Case-insensitive: e-mails are stored lower-cased (API.md). */
  findByEmail(email: string): Promise<UserRecord | null>;
  findById(id: number): Promise<UserRecord | null>;
  /** Replaces a hash without revoking tokens: used to upgrade an imported bcrypt hash after login. */
  upgradePasswordHash(id: number, oldHash: string, newHash: string): Promise<void>;
}

export function createUsersRepository(prisma: PrismaClient): UsersRepository {
  const include = { reseller: { select: { clientId: true } } } as const;
  type Row = { id: number; email: string; name: string; resellerId: string; passwordHash: string; active: boolean; reseller: { clientId: number } };
  const toRecord = (row: Row): UserRecord => ({
    id: row.id,
    email: row.email,
    name: row.name,
    resellerId: row.resellerId,
    clientId: row.reseller.clientId,
    passwordHash: row.passwordHash,
    active: row.active,
  });
  return {
    findByEmail: (email) =>
      withDatabase(async () => {
        const row = await prisma.user.findUnique({ where: { email: email.toLowerCase() }, include });
        return row ? toRecord(row) : null;
      }),
    findById: (id) =>
      withDatabase(async () => {
        const row = await prisma.user.findUnique({ where: { id }, include });
        return row ? toRecord(row) : null;
      }),
    upgradePasswordHash: (id, oldHash, newHash) =>
      withDatabase(async () => {
        // Only if unchanged meanwhile: an admin's new password must win over a login's re-hash.
        await prisma.user.updateMany({ where: { id, passwordHash: oldHash }, data: { passwordHash: newHash } });
      }),
  };
}
