// The import in batches (docs/passport-migration.md): several small batches give exactly what one
// batch gives — rows, tokens and report, the checks across batches (a client or an e-mail of an
// earlier batch) included — a dry run in batches writes nothing, and between two batches no lock
// is held: a reseller's first login (whose re-hash writes its user row) and an admin save go
// through while the import is paused half-way.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { importDeps } from '../../src/passport/import-deps.js';
import { type ImportDeps, type ImportReport, importPassport } from '../../src/passport/importer.js';
import { type TestApp, build, eachBackend, passwordGrantBody } from '../helper.js';
import {
  POSTGRES_URL,
  type SourceDb,
  createPostgresSource,
  importOptions,
  laravelHash,
  passportId,
  seedPassport,
  sqlTime,
} from './passport-fixtures.js';

const skip = POSTGRES_URL ? false : 'TEST_DATABASE_URL is not set: the batched import suite is skipped';

/** Reseller `n`: client 100+n (plain secret) and user 100+n, one access token with its refresh token. */
async function addReseller(db: SourceDb, n: number, email = `api.${n}@revenda.example`, clientId = 100 + n): Promise<void> {
  const now = new Date();
  const later = sqlTime(new Date(now.getTime() + 86_400_000));
  await db.exec('INSERT INTO users (id, name, email, password, created_at) VALUES (?, ?, ?, ?, ?)', [
    100 + n,
    `Revenda ${n} API`,
    email,
    await laravelHash(`senha-${n}`),
    sqlTime(now),
  ]);
  if (clientId === 100 + n) {
    await db.exec(
      `INSERT INTO oauth_clients (id, user_id, name, secret, provider, redirect, personal_access_client, password_client, revoked, created_at)
       VALUES (?, ?, ?, ?, 'users', 'http://localhost', '0', '1', '0', ?)`,
      [clientId, 100 + n, `Revenda ${n}`, randomBytes(30).toString('base64url').slice(0, 40), sqlTime(now)],
    );
    const access = passportId();
    await db.exec(
      'INSERT INTO oauth_access_tokens (id, user_id, client_id, name, scopes, revoked, created_at, expires_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?)',
      [access, 100 + n, clientId, '[]', String(n % 2), sqlTime(now), later],
    );
    await db.exec("INSERT INTO oauth_refresh_tokens (id, access_token_id, revoked, expires_at) VALUES (?, ?, '0', ?)", [passportId(), access, later]);
  }
  await db.exec('INSERT INTO revendas (id, nome, oauth_client_id, api_user_id) VALUES (?, ?, ?, ?)', [n, `Revenda ${n}`, clientId, 100 + n]);
}

/** A reseller of ours whose e-mail one of Passport's users also has: that account is in conflict. */
async function localReseller(ctx: TestApp): Promise<void> {
  const prisma = ctx.services.db.prisma;
  const client = await prisma.client.create({ data: { kind: 'reseller', name: 'Daqui', allowedNetworks: [], grants: [] } });
  await prisma.reseller.create({ data: { resellerId: 'local', clientId: client.id } });
  await prisma.user.create({ data: { resellerId: 'local', name: 'Daqui', email: 'api.34@revenda.example', passwordHash: 'x' } });
}

/** Our rows, without what differs between two equal imports (times, the sealed secret's key and nonce). */
async function snapshot(ctx: TestApp) {
  const prisma = ctx.services.db.prisma;
  const plain = <T extends object>(rows: T[]) =>
    rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).filter(([key]) => !['createdAt', 'updatedAt', 'importedAt', 'secretCiphertext', 'secretKeyId'].includes(key)),
      ),
    );
  const clients = await prisma.client.findMany({ orderBy: { id: 'asc' } });
  return {
    clients: plain(clients),
    secrets: clients.map((c) =>
      c.secretCiphertext && c.secretKeyId ? ctx.services.secretBox.open({ keyId: c.secretKeyId, ciphertext: c.secretCiphertext }) : null,
    ),
    users: plain(await prisma.user.findMany({ orderBy: { id: 'asc' } })),
    resellers: plain(await prisma.reseller.findMany({ orderBy: { resellerId: 'asc' } })),
    access: plain(await prisma.legacyAccessToken.findMany({ orderBy: { id: 'asc' } })),
    refresh: plain(await prisma.legacyRefreshToken.findMany({ orderBy: { id: 'asc' } })),
  };
}

/** A report with its invalid entries sorted: batches list each batch's own after the earlier ones'. */
const comparable = (report: ImportReport) => ({ ...report, invalid: [...report.invalid].sort() });

eachBackend(t, async (t, backend) => {
  t.test('in batches', { skip }, async (t) => {
    const source = await createPostgresSource(t);
    const world = await seedPassport(source);
    for (const n of [30, 31, 32, 33, 34, 35]) await addReseller(source, n);
    // Across batches: an e-mail Passport gives two users, and a client mapped to two resellers.
    await addReseller(source, 36, 'API.30@revenda.example');
    await addReseller(source, 37, undefined, 131);
    const [batched, whole] = [await build(t, backend), await build(t, backend)];
    await localReseller(batched);
    await localReseller(whole);
    const run = (ctx: TestApp, over: Parameters<typeof importOptions>[1], afterBatch?: ImportDeps['afterBatch']) =>
      importPassport(importOptions(source.url, over), { ...importDeps(ctx.services), ...(afterBatch ? { afterBatch } : {}) });

    await t.test('several batches of 2 give what one batch gives; a dry run in batches writes nothing', async (t) => {
      const batches: number[] = [];
      const empty = await snapshot(batched);
      const dry = await importPassport(importOptions(source.url, { batchSize: 2, dryRun: true }), {
        ...importDeps(batched.services),
        afterBatch: async ({ batch }) => void batches.push(batch),
      });
      t.same(await snapshot(batched), empty, 'the dry run wrote nothing');
      t.same(batches, [1, 2, 3, 4, 5], 'ten mapped resellers (reseller 9 names no client) in batches of 2');

      const inBatches = await run(batched, { batchSize: 2 });
      const inOne = await run(whole, {});
      t.same(comparable(inBatches), comparable(inOne));
      t.same(comparable(dry), { ...comparable(inOne), dryRun: true, committed: false });
      t.same(await snapshot(batched), await snapshot(whole));
      // What the checks across batches found, and what was imported.
      t.ok(inOne.invalid.some((line) => line.includes('e-mail api.30@revenda.example is also the user of reseller 30')));
      t.ok(inOne.invalid.some((line) => line.includes('client 131 is mapped to resellers 31 and 37')));
      t.same(inOne.conflicts, ['reseller 34: e-mail api.34@revenda.example is already used here by reseller local']);
      t.same([inOne.committed, inOne.tokens?.accessTokensAdded, inOne.tokens?.refreshTokensAdded], [true, 8, 7]);
      t.equal(await batched.services.db.prisma.reseller.count(), 8, 'resellers 6, 7, 30–33, 35 and the local one');

      const again = await run(batched, { batchSize: 2 });
      t.same([again.changes, again.tokens?.accessTokensAdded, again.tokens?.refreshTokensAdded], [[], 0, 0], 'a re-run in batches changes nothing');
    });

    await t.test('between two batches a first login and an admin save go through at once', async (t) => {
      const prisma = batched.services.db.prisma;
      const during: { batch: number; resellers: number; of: number; login: number; save: number; loginMs: number; saveMs: number }[] = [];
      const report = await run(batched, { batchSize: 2 }, async (progress) => {
        if (progress.batch !== 2) return;
        const started = performance.now();
        // Reseller 6's first login here re-hashes its password: a write to its user row.
        const login = await batched.publicApp.inject({
          method: 'POST',
          url: '/oauth/token',
          remoteAddress: '127.0.0.1',
          payload: passwordGrantBody(world.seis),
        });
        const loginMs = performance.now() - started;
        const saved = performance.now();
        const save = await batched.adminApp.inject({
          method: 'PUT',
          url: '/admin/resellers/painel/api',
          headers: { authorization: `Bearer ${batched.adminToken}` },
          payload: { name: 'Configurada no painel', email: 'painel@revenda.example', password: 'senha-do-painel', allowedIp: '127.0.0.0/8' },
        });
        during.push({ ...progress, login: login.statusCode, save: save.statusCode, loginMs, saveMs: performance.now() - saved });
      });
      t.equal(during.length, 1);
      const [seen] = during;
      t.match(seen, { batch: 2, resellers: 4, of: 10, login: 200, save: 201 }, 'paused half-way; both answered');
      // Generous bounds for a loaded machine; a lock held for the whole run made them wait for the statement timeout.
      t.ok((seen?.loginMs ?? Infinity) < 3000, `the login took ${Math.round(seen?.loginMs ?? 0)} ms`);
      t.ok((seen?.saveMs ?? Infinity) < 3000, `the admin save took ${Math.round(seen?.saveMs ?? 0)} ms`);
      t.match(
        (await prisma.user.findUniqueOrThrow({ where: { passportId: world.seis.userId } })).passwordHash,
        /^\$argon2id\$/,
        'the re-hash was written',
      );
      t.same([report.committed, report.conflicts.length, report.changes], [true, 1, []], 'the import completed; the re-hash is no change to import');
    });
  });
});
