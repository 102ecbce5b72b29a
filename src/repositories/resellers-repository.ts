// A reseller's API access: the DBS reseller id, its OAuth client and the one user that client
// authenticates (docs/admin-api.md). Knows nothing of HTTP, hashing or encryption: callers
// pass the password hash and the sealed secret.
import { ConflictError } from '../errors.js';
import { isUniqueViolation, withDatabase } from '../db/errors.js';
import type { Prisma, PrismaClient } from '../generated/prisma/client.js';
import type { Sealed } from '../security/secret-box.js';

export const RESELLER_GRANTS = ['password', 'refresh_token'];

export interface ResellerAccess {
  resellerId: string;
  name: string;
  email: string;
  allowedNetworks: string[];
  clientId: number;
  userId: number;
  secret: Sealed | null;
  secretHash: string | null;
  /** Client and user both enabled. */
  active: boolean;
  /** Client and user both disabled: switching the access off has nothing left to write. */
  switchedOff: boolean;
  /** A cut-off was committed but the revocation after it not confirmed: the next change completes it. */
  cutOffPending: boolean;
  /** Moved by every cut-off recorded; the pending mark is cleared only at the version it was read at. */
  cutOffVersion: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A cut-off recorded as pending: whose tokens to revoke, and the mark's version to clear. */
export interface PendingCutOff {
  resellerId: string;
  clientId: number;
  /** Null only for a reseller row without its user (none is created so): no imported tokens to revoke. */
  userId: number | null;
  cutOffVersion: number;
}

export interface NewResellerAccess {
  resellerId: string;
  name: string;
  email: string;
  passwordHash: string;
  allowedNetworks: string[];
  secret: Sealed;
}

export interface ResellerAccessChanges {
  name?: string;
  email?: string;
  passwordHash?: string;
  allowedNetworks?: string[];
  active?: boolean;
  secret?: Sealed;
}

export interface ResellerPage {
  items: ResellerAccess[];
  /** Opaque; undefined on the last page. */
  nextCursor: string | undefined;
}

export interface ResellersRepository {
  find(resellerId: string): Promise<ResellerAccess | null>;
  create(access: NewResellerAccess): Promise<ResellerAccess>;
  /**
   * `cutOff`: the change cuts the reseller off, and is recorded as pending in the same transaction
   * until `cutOffDone` says its revocation is confirmed.
   */
  update(resellerId: string, changes: ResellerAccessChanges, cutOff?: boolean): Promise<ResellerAccess>;
  /**
   * Clears the pending cut-off if no cut-off was recorded since `cutOffVersion` was read (one
   * recorded meanwhile stays pending: its revocation may have run before its commit); the access's
   * updatedAt is left as it is.
   */
  cutOffDone(resellerId: string, cutOffVersion: number): Promise<void>;
  /** The cut-offs recorded and not yet completed. */
  pendingCutOffs(): Promise<PendingCutOff[]>;
  /** Newest createdAt first; throws on a malformed cursor. */
  list(limit: number, cursor?: string): Promise<ResellerPage>;
}

const include = { client: true, user: true } as const;

type Row = {
  resellerId: string;
  cutOffPending: boolean;
  cutOffVersion: number;
  createdAt: Date;
  updatedAt: Date;
  client: {
    id: number;
    allowedNetworks: string[];
    secretCiphertext: string | null;
    secretKeyId: string | null;
    secretHash: string | null;
    active: boolean;
    updatedAt: Date;
  };
  user: { id: number; name: string; email: string; active: boolean; updatedAt: Date } | null;
};

function toAccess(row: Row): ResellerAccess {
  if (!row.user) throw new Error(`reseller ${row.resellerId} has no user`);
  const updatedAt = [row.updatedAt, row.client.updatedAt, row.user.updatedAt].reduce((a, b) => (a > b ? a : b));
  return {
    resellerId: row.resellerId,
    name: row.user.name,
    email: row.user.email,
    allowedNetworks: row.client.allowedNetworks,
    clientId: row.client.id,
    userId: row.user.id,
    secret: row.client.secretCiphertext && row.client.secretKeyId ? { keyId: row.client.secretKeyId, ciphertext: row.client.secretCiphertext } : null,
    secretHash: row.client.secretHash,
    active: row.client.active && row.user.active,
    switchedOff: !row.client.active && !row.user.active,
    cutOffPending: row.cutOffPending,
    cutOffVersion: row.cutOffVersion,
    createdAt: row.createdAt,
    updatedAt,
  };
}

function emailConflict(err: unknown): never {
  if (isUniqueViolation(err)) {
    throw new ConflictError('The e-mail is already used by another reseller.', { email: 'is already used by another reseller' });
  }
  throw err;
}

export function encodeCursor(access: Pick<ResellerAccess, 'createdAt' | 'resellerId'>): string {
  return Buffer.from(JSON.stringify([access.createdAt.toISOString(), access.resellerId])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; resellerId: string } | null {
  try {
    const [createdAt, resellerId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt !== 'string' || typeof resellerId !== 'string') return null;
    const date = new Date(createdAt);
    return Number.isNaN(date.getTime()) ? null : { createdAt: date, resellerId };
  } catch {
    return null;
  }
}

export function createResellersRepository(prisma: PrismaClient): ResellersRepository {
  return {
    find: (resellerId) =>
      withDatabase(async () => {
        const row = await prisma.reseller.findUnique({ where: { resellerId }, include });
        return row ? toAccess(row) : null;
      }),

    create: (access) =>
      withDatabase(() =>
        prisma
          .$transaction(async (tx) => {
            const client = await tx.client.create({
              data: {
                kind: 'reseller',
                name: access.name,
                secretCiphertext: access.secret.ciphertext,
                secretKeyId: access.secret.keyId,
                allowedNetworks: access.allowedNetworks,
                grants: RESELLER_GRANTS,
              },
            });
            await tx.reseller.create({ data: { resellerId: access.resellerId, clientId: client.id } });
            await tx.user.create({
              data: { resellerId: access.resellerId, name: access.name, email: access.email.toLowerCase(), passwordHash: access.passwordHash },
            });
            return toAccess(await tx.reseller.findUniqueOrThrow({ where: { resellerId: access.resellerId }, include }));
          })
          .catch(emailConflict),
      ),

    update: (resellerId, changes, cutOff = false) =>
      withDatabase(() =>
        prisma
          .$transaction(async (tx) => {
            const reseller = await tx.reseller.findUniqueOrThrow({ where: { resellerId } });
            await tx.client.update({
              where: { id: reseller.clientId },
              data: {
                name: changes.name,
                allowedNetworks: changes.allowedNetworks,
                active: changes.active,
                secretCiphertext: changes.secret?.ciphertext,
                secretKeyId: changes.secret?.keyId,
                // A new secret replaces an imported bcrypt hash for good.
                secretHash: changes.secret ? null : undefined,
              },
            });
            await tx.user.update({
              where: { resellerId },
              data: { name: changes.name, email: changes.email?.toLowerCase(), passwordHash: changes.passwordHash, active: changes.active },
            });
            await tx.reseller.update({
              where: { resellerId },
              data: { updatedAt: new Date(), ...(cutOff ? { cutOffPending: true, cutOffVersion: { increment: 1 } } : {}) },
            });
            return toAccess(await tx.reseller.findUniqueOrThrow({ where: { resellerId }, include }));
          })
          .catch(emailConflict),
      ),

    cutOffDone: (resellerId, cutOffVersion) =>
      withDatabase(async () => {
        // Prisma would stamp updatedAt (@updatedAt) on an update through the model: the flag is
        // bookkeeping, not a change of the access.
        await prisma.$executeRaw`
          UPDATE resellers SET cut_off_pending = false
          WHERE reseller_id = ${resellerId} AND cut_off_pending AND cut_off_version = ${cutOffVersion}`;
      }),

    pendingCutOffs: () =>
      withDatabase(async () => {
        const rows = await prisma.reseller.findMany({
          where: { cutOffPending: true },
          select: { resellerId: true, clientId: true, cutOffVersion: true, user: { select: { id: true } } },
          orderBy: { resellerId: 'asc' },
        });
        return rows.map((r) => ({ resellerId: r.resellerId, clientId: r.clientId, userId: r.user?.id ?? null, cutOffVersion: r.cutOffVersion }));
      }),

    list: (limit, cursor) =>
      withDatabase(async () => {
        const after = cursor === undefined ? null : decodeCursor(cursor);
        if (cursor !== undefined && !after) throw new RangeError('malformed cursor');
        const rows = await prisma.reseller.findMany({
          where: after
            ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, resellerId: { lt: after.resellerId } }] }
            : undefined,
          orderBy: [{ createdAt: 'desc' }, { resellerId: 'desc' }],
          take: limit + 1,
          include,
        });
        const items = rows.slice(0, limit).map(toAccess);
        const last = items.at(-1);
        return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : undefined };
      }),
  };
}

/**
 * Records, in the caller's transaction (the Passport import's batch), that the resellers of these
 * clients and users are cut off; returns the marks to complete once it has committed. A user
 * always has its reseller row; a client must have one too (the import creates it in the same
 * batch), or the batch is refused: a cut-off whose mark could not be recorded could be lost.
 */
export async function markCutOffsPending(tx: Prisma.TransactionClient, cutOff: { clientIds: number[]; userIds: number[] }): Promise<PendingCutOff[]> {
  if (cutOff.clientIds.length + cutOff.userIds.length === 0) return [];
  const marked = await tx.$queryRaw<PendingCutOff[]>`
    WITH marked AS (
      UPDATE resellers SET cut_off_pending = true, cut_off_version = cut_off_version + 1
      WHERE client_id = ANY(${cutOff.clientIds}::int[]) OR reseller_id IN (SELECT reseller_id FROM users WHERE id = ANY(${cutOff.userIds}::int[]))
      RETURNING reseller_id, client_id, cut_off_version)
    SELECT m.reseller_id AS "resellerId", m.client_id AS "clientId", u.id AS "userId", m.cut_off_version AS "cutOffVersion"
    FROM marked m LEFT JOIN users u ON u.reseller_id = m.reseller_id
    ORDER BY m.reseller_id`;
  const covered = new Set(marked.map((m) => m.clientId));
  const missing = cutOff.clientIds.filter((id) => !covered.has(id));
  if (missing.length > 0) throw new Error(`client(s) ${missing.join(', ')} to cut off have no reseller: the cut-off cannot be recorded`);
  return marked;
}
