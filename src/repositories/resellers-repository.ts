// A reseller's API access: the DBS reseller id, its OAuth client and the one user that client
// authenticates (docs/admin-api.md). Knows nothing of HTTP, hashing or encryption: callers
// pass the password hash and the sealed secret.
import { ConflictError } from '../errors.js';
import { isUniqueViolation, withDatabase } from '../db/errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
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
  createdAt: Date;
  updatedAt: Date;
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
  /** Clears the pending cut-off; the access's updatedAt is left as it is. */
  cutOffDone(resellerId: string): Promise<void>;
  /** Newest createdAt first; throws on a malformed cursor. */
  list(limit: number, cursor?: string): Promise<ResellerPage>;
}

const include = { client: true, user: true } as const;

type Row = {
  resellerId: string;
  cutOffPending: boolean;
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
            await tx.reseller.update({ where: { resellerId }, data: { updatedAt: new Date(), ...(cutOff ? { cutOffPending: true } : {}) } });
            return toAccess(await tx.reseller.findUniqueOrThrow({ where: { resellerId }, include }));
          })
          .catch(emailConflict),
      ),

    cutOffDone: (resellerId) =>
      withDatabase(async () => {
        // Prisma would stamp updatedAt (@updatedAt) on an update through the model: the flag is
        // bookkeeping, not a change of the access.
        await prisma.$executeRaw`UPDATE resellers SET cut_off_pending = false WHERE reseller_id = ${resellerId} AND cut_off_pending`;
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
