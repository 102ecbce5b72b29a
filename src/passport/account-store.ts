// Our side of the account import, inside one batch's transaction: locking and reading the rows a
// plan is made against, and writing a plan. Clients keep Passport's ids (inserted explicitly);
// the id sequences are moved past the largest id after each batch of a real run.
import type { Prisma } from '../generated/prisma/client.js';
import { RESELLER_GRANTS } from '../repositories/resellers-repository.js';
import type { SecretBox } from '../security/secret-box.js';
import type { AccountPlan, OurClient, OurState, OurUser } from './account-plan.js';
import { type SecretValue, secretDigest } from './passport-entries.js';
import type { ResellerMapping } from './reseller-mapping.js';

type Tx = Prisma.TransactionClient;

/**
 * Locks the rows a batch's plan updates until the batch commits: an admin save or a login's
 * re-hash of one of them waits for that batch only, every other row stays free. Taken in id order.
 */
export async function lockRowsToUpdate(tx: Tx, rows: { clientIds: number[]; userIds: number[] }): Promise<void> {
  if (rows.clientIds.length > 0) await tx.$queryRaw`SELECT id FROM clients WHERE id = ANY(${rows.clientIds}::int[]) ORDER BY id FOR UPDATE`;
  if (rows.userIds.length > 0) await tx.$queryRaw`SELECT id FROM users WHERE id = ANY(${rows.userIds}::int[]) ORDER BY id FOR UPDATE`;
}

export async function loadOurState(
  tx: Tx,
  mapping: readonly ResellerMapping[],
  passportUsers: readonly { id: number; email: string }[],
  box: SecretBox,
): Promise<OurState> {
  const clientIds = mapping.map((m) => m.clientId);
  const resellerIds = mapping.map((m) => m.resellerId);
  const passportUserIds = passportUsers.map((u) => u.id);
  const emails = passportUsers.map((u) => u.email.toLowerCase());
  const [clients, resellers, users, taken] = await Promise.all([
    tx.client.findMany({ where: { id: { in: clientIds } } }),
    tx.reseller.findMany({ where: { OR: [{ resellerId: { in: resellerIds } }, { clientId: { in: clientIds } }] } }),
    tx.user.findMany({ where: { OR: [{ passportId: { in: passportUserIds } }, { resellerId: { in: resellerIds } }, { email: { in: emails } }] } }),
    tx.user.findMany({ where: { id: { in: passportUserIds } }, select: { id: true } }),
  ]);
  const state: OurState = {
    clients: new Map(),
    resellers: new Map(resellers.map((r) => [r.resellerId, { clientId: r.clientId }])),
    usersByPassportId: new Map(),
    usersByResellerId: new Map(),
    usersByEmail: new Map(),
    takenUserIds: new Set(taken.map((u) => u.id)),
  };
  for (const c of clients) {
    let secret: SecretValue | null = null;
    if (c.secretCiphertext && c.secretKeyId) secret = { plain: box.open({ keyId: c.secretKeyId, ciphertext: c.secretCiphertext }) };
    else if (c.secretHash) secret = { hash: c.secretHash };
    const client: OurClient = {
      id: c.id,
      kind: c.kind,
      name: c.name,
      active: c.active,
      secretDigest: secret ? secretDigest(secret) : null,
      passportId: c.passportId,
      importDigest: c.importDigest,
    };
    state.clients.set(c.id, client);
  }
  for (const u of users) {
    const user: OurUser = { ...u, importDigest: u.importDigest };
    if (u.passportId !== null) state.usersByPassportId.set(u.passportId, user);
    state.usersByResellerId.set(u.resellerId, user);
    state.usersByEmail.set(u.email, user);
  }
  return state;
}

function secretColumns(secret: SecretValue, box: SecretBox) {
  if ('hash' in secret) return { secretCiphertext: null, secretKeyId: null, secretHash: secret.hash };
  const sealed = box.seal(secret.plain);
  return { secretCiphertext: sealed.ciphertext, secretKeyId: sealed.keyId, secretHash: null };
}

function userData(u: AccountPlan['createUsers'][number], id: number) {
  return {
    id,
    resellerId: u.resellerId,
    name: u.name,
    email: u.email,
    passwordHash: u.passwordHash,
    passportId: u.passportId,
    importDigest: u.digests,
  };
}

/**
 * Writes a plan; returns Passport user id → our user id for every imported pair. Creations go in
 * one statement per table. `reserveIds`: a real run takes the ids of renumbered users from the
 * sequence (so a user created concurrently through the admin API cannot get the same one); a dry
 * run, which must not move a sequence, counts up from the largest id in use.
 */
export async function applyAccountPlan(tx: Tx, plan: AccountPlan, box: SecretBox, reserveIds: boolean): Promise<Map<number, number>> {
  if (plan.createClients.length > 0) {
    await tx.client.createMany({
      data: plan.createClients.map((c) => ({
        id: c.id,
        kind: 'reseller',
        name: c.name,
        active: c.active,
        ...secretColumns(c.secret, box),
        allowedNetworks: c.allowedNetworks,
        grants: RESELLER_GRANTS,
        passportId: c.id,
        importDigest: c.digests,
      })),
    });
  }
  for (const c of plan.updateClients) {
    await tx.client.update({
      where: { id: c.id },
      data: { name: c.name, active: c.active, ...(c.secret ? secretColumns(c.secret, box) : {}), importDigest: c.digests },
    });
  }
  if (plan.createResellers.length > 0) await tx.reseller.createMany({ data: plan.createResellers });
  // Users whose Passport id is free keep it; the others get new ids (above every id in use).
  const keeping = plan.createUsers.filter((u) => u.id !== null);
  const renumbered = plan.createUsers.filter((u) => u.id === null);
  if (keeping.length > 0) await tx.user.createMany({ data: keeping.map((u) => userData(u, u.id as number)) });
  if (renumbered.length > 0) {
    const ids = reserveIds ? await reservedUserIds(tx, renumbered.length) : await idsAboveInUse(tx, renumbered.length);
    await tx.user.createMany({ data: renumbered.map((u, i) => userData(u, ids[i] as number)) });
  }
  for (const u of plan.updateUsers) {
    await tx.user.update({
      where: { id: u.id },
      data: { name: u.name, email: u.email, passwordHash: u.passwordHash, importDigest: u.digests },
    });
  }
  const passportIds = plan.pairs.map((p) => p.passportUserId);
  const users = await tx.user.findMany({ where: { passportId: { in: passportIds } }, select: { id: true, passportId: true } });
  return new Map(users.flatMap((u) => (u.passportId === null ? [] : [[u.passportId, u.id] as [number, number]])));
}

/** After the sequence has passed this batch's explicit ids (advanceSequences), `count` ids of it. */
async function reservedUserIds(tx: Tx, count: number): Promise<number[]> {
  await advanceSequences(tx);
  const rows = await tx.$queryRaw<{ id: number }[]>`SELECT nextval('users_id_seq')::int AS id FROM generate_series(1, ${count}::int)`;
  return rows.map((r) => r.id);
}

async function idsAboveInUse(tx: Tx, count: number): Promise<number[]> {
  const [{ top } = { top: 0 }] = await tx.$queryRaw<{ top: number }[]>`
    SELECT GREATEST(COALESCE(MAX(id), 0), (SELECT last_value FROM users_id_seq))::int AS top FROM users`;
  return Array.from({ length: count }, (_, i) => top + i + 1);
}

/**
 * Explicit ids do not advance a sequence: move both past the largest id so that the next client
 * (or user) created here does not collide. Never moves a sequence backwards (setval is not undone
 * by a rollback: a dry run never calls this).
 */
export async function advanceSequences(tx: Tx): Promise<void> {
  for (const table of ['clients', 'users']) {
    await tx.$executeRawUnsafe(
      `SELECT setval(pg_get_serial_sequence('${table}', 'id'),
         GREATEST((SELECT COALESCE(MAX(id), 0) FROM "${table}"), (SELECT last_value FROM ${table}_id_seq), 1))`,
    );
  }
}
