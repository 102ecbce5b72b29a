// Our side of the account import, inside the import's transaction: reading the rows a plan is
// made against, and writing a plan. Clients keep Passport's ids (inserted explicitly); the id
// sequences are moved past the largest id afterwards, in the same transaction.
import type { Prisma } from '../generated/prisma/client.js';
import { RESELLER_GRANTS } from '../repositories/resellers-repository.js';
import type { SecretBox } from '../security/secret-box.js';
import type { AccountPlan, OurClient, OurState, OurUser } from './account-plan.js';
import { type SecretValue, secretDigest } from './passport-entries.js';
import type { ResellerMapping } from './reseller-mapping.js';

type Tx = Prisma.TransactionClient;

/**
 * Blocks concurrent writes to the account tables (the admin API, the login re-hash, a second
 * import) for the length of the run; reads (logins, introspection) go on.
 */
export async function lockAccountTables(tx: Tx): Promise<void> {
  await tx.$executeRawUnsafe('LOCK TABLE clients, resellers, users IN SHARE ROW EXCLUSIVE MODE');
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

/** Writes a plan; returns Passport user id → our user id for every imported pair. */
export async function applyAccountPlan(tx: Tx, plan: AccountPlan, box: SecretBox): Promise<Map<number, number>> {
  for (const c of plan.createClients) {
    await tx.client.create({
      data: {
        id: c.id,
        kind: 'reseller',
        name: c.name,
        active: c.active,
        ...secretColumns(c.secret, box),
        allowedNetworks: c.allowedNetworks,
        grants: RESELLER_GRANTS,
        passportId: c.id,
        importDigest: c.digests,
      },
    });
  }
  for (const c of plan.updateClients) {
    await tx.client.update({
      where: { id: c.id },
      data: { name: c.name, active: c.active, ...(c.secret ? secretColumns(c.secret, box) : {}), importDigest: c.digests },
    });
  }
  for (const r of plan.createResellers) await tx.reseller.create({ data: r });
  // Users whose Passport id is free keep it; the others get ids above every id in use, chosen
  // here rather than by the sequence, which this run's explicit ids have not advanced yet (and a
  // dry run must not advance).
  const keeping = plan.createUsers.filter((u) => u.id !== null);
  const renumbered = plan.createUsers.filter((u) => u.id === null);
  for (const u of keeping) await tx.user.create({ data: userData(u, u.id as number) });
  if (renumbered.length > 0) {
    const [{ top } = { top: 0 }] = await tx.$queryRaw<{ top: number }[]>`
      SELECT GREATEST(COALESCE(MAX(id), 0), (SELECT last_value FROM users_id_seq))::int AS top FROM users`;
    for (const [i, u] of renumbered.entries()) await tx.user.create({ data: userData(u, top + i + 1) });
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

/**
 * Explicit ids do not advance a sequence: move both past the largest id so that the next client
 * (or user) created here does not collide. Never moves a sequence backwards.
 */
export async function advanceSequences(tx: Tx): Promise<void> {
  for (const table of ['clients', 'users']) {
    await tx.$executeRawUnsafe(
      `SELECT setval(pg_get_serial_sequence('${table}', 'id'),
         GREATEST((SELECT COALESCE(MAX(id), 0) FROM "${table}"), (SELECT last_value FROM ${table}_id_seq), 1))`,
    );
  }
}
