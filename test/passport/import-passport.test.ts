// Importing a Laravel Passport 12 database held in a real MariaDB — dry run, the import,
// its idempotency, logins with the old credentials (and the argon2id re-hash), the admin view of
// a hash-only secret, and conflicts. Runs on the embedded defaults and on PostgreSQL + Redis.
import t from 'tap';
import { type ImportReport, hasChanges, importPassport } from '../../src/passport/importer.js';
import { importDeps } from '../../src/passport/import-deps.js';
import { type TestApp, build, eachBackend, passwordGrantBody } from '../helper.js';
import {
  MYSQL_URL,
  type PassportReseller,
  type PassportWorld,
  type SourceDb,
  createMysqlSource,
  FIRST_IMPORT_CHANGES,
  NO_TOKEN_CHANGES,
  importOptions,
  seedPassport,
} from './passport-fixtures.js';

const skip = MYSQL_URL ? false : 'TEST_MYSQL_URL is not set: the MariaDB import suite is skipped (source scripts/test-services.sh)';

eachBackend(t, async (t, backend) => {
  t.test('from MariaDB', { skip }, async (t) => {
    const source: SourceDb = await createMysqlSource(t);
    const world: PassportWorld = await seedPassport(source);
    const ctx: TestApp = await build(t, backend);
    const prisma = ctx.services.db.prisma;
    const run = (over: Parameters<typeof importOptions>[1] = {}): Promise<ImportReport> =>
      importPassport(importOptions(source.url, over), importDeps(ctx.services));
    const login = (r: PassportReseller, remoteAddress = '127.0.0.1', password = r.password) =>
      ctx.publicApp.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress,
        payload: passwordGrantBody(r, { password }),
      });
    const snapshot = async () => ({
      clients: await prisma.client.findMany({ orderBy: { id: 'asc' } }),
      users: await prisma.user.findMany({ orderBy: { id: 'asc' } }),
      resellers: await prisma.reseller.findMany({ orderBy: { resellerId: 'asc' } }),
      access: await prisma.legacyAccessToken.findMany({ orderBy: { id: 'asc' } }),
      refresh: await prisma.legacyRefreshToken.findMany({ orderBy: { id: 'asc' } }),
    });

    await t.test('a dry run reports what it would do and changes nothing', async (t) => {
      const before = await snapshot();
      const report = await run({ dryRun: true });
      t.same(report, {
        dryRun: true,
        committed: false,
        conflicts: [],
        invalid: [],
        changes: FIRST_IMPORT_CHANGES,
        unmappedClients: [24],
        tokens: { ...NO_TOKEN_CHANGES, accessTokensAdded: 3, refreshTokensAdded: 2 },
      });
      t.same(await snapshot(), before);
    });

    await t.test('the import brings clients, users, resellers and token ids in, keeping ids', async (t) => {
      const report = await run();
      t.same(report, {
        dryRun: false,
        committed: true,
        conflicts: [],
        invalid: [],
        changes: FIRST_IMPORT_CHANGES,
        unmappedClients: [24],
        tokens: { ...NO_TOKEN_CHANGES, accessTokensAdded: 3, refreshTokensAdded: 2 },
      });
      const { clients, users, resellers, access, refresh } = await snapshot();
      t.same(
        clients.map((c) => [c.id, c.kind, c.name, c.active, c.passportId, c.allowedNetworks, c.grants, c.secretHash?.slice(0, 4) ?? null]),
        [
          [19, 'reseller', 'Revenda Seis', true, 19, ['0.0.0.0/0', '::/0'], ['password', 'refresh_token'], null],
          [23, 'reseller', 'Revenda Sete', true, 23, ['10.0.0.0/8', '127.0.0.1/32'], ['password', 'refresh_token'], '$2y$'],
        ],
      );
      const seis = clients[0];
      t.equal(
        seis?.secretCiphertext && seis.secretKeyId
          ? ctx.services.secretBox.open({ keyId: seis.secretKeyId, ciphertext: seis.secretCiphertext })
          : null,
        world.seis.clientSecret,
      );
      t.not(seis?.secretCiphertext, world.seis.clientSecret, 'the plain secret is stored encrypted');
      t.equal(clients[1]?.secretCiphertext, null, 'a hashed secret stays a hash');
      t.same(
        users.map((u) => [u.id, u.passportId, u.resellerId, u.name, u.email, u.passwordHash.slice(0, 7)]),
        [
          [5, 5, '6', 'Revenda Seis API', 'api.seis@revenda.example', '$2y$10$'],
          [7, 7, '7', 'Revenda Sete API', 'api.sete@revenda.example', '$2y$10$'],
        ],
      );
      t.same(
        resellers.map((r) => [r.resellerId, r.clientId]),
        [
          ['6', 19],
          ['7', 23],
        ],
      );
      t.same(
        access.map((a) => [a.id, a.clientId, a.userId, a.revoked, a.expiresAt?.toISOString()]).sort(),
        [
          [world.tokens.seis, 19, 5, false, world.tokenExpiry.toISOString()],
          [world.tokens.seisRevoked, 19, 5, true, world.tokenExpiry.toISOString()],
          [world.tokens.sete, 23, 7, false, world.tokenExpiry.toISOString()],
        ].sort(),
      );
      t.same(refresh.map((r) => [r.id, r.accessTokenId, r.revoked, r.usedAt]).sort(), [
        ...[
          [world.refresh.seis, world.tokens.seis, false, null],
          [world.refresh.sete, world.tokens.sete, false, null],
        ].sort(),
      ]);
      // The id sequence moved past Passport's ids: the next client created here gets 24.
      const rs = await ctx.services.resourceServers.create('DBS API', ctx.services.secretBox.seal('rs-secret-0123456789'));
      t.equal(rs.clientId, 24);
    });

    await t.test('a second run changes nothing', async (t) => {
      const before = await snapshot();
      const report = await run();
      t.same(report, { dryRun: false, committed: true, conflicts: [], invalid: [], changes: [], unmappedClients: [24], tokens: NO_TOKEN_CHANGES });
      t.notOk(hasChanges(report));
      t.same(await snapshot(), before);
    });

    await t.test('the resellers log in with their old client id, secret and password; the hash becomes argon2id', async (t) => {
      for (const r of [world.seis, world.sete]) {
        const res = await login(r);
        t.equal(res.statusCode, 200, `reseller ${r.resellerId}: ${res.body}`);
        t.match(res.json(), {
          token_type: 'Bearer',
          expires_in: 3600,
          access_token: /^[\w-]{22}\.[\w-]{43}$/,
          refresh_token: /^[\w-]{22}\.[\w-]{43}$/,
          scope: '',
        });
        const user = await prisma.user.findUniqueOrThrow({ where: { id: r.userId } });
        t.match(user.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 're-hashed after the login');
      }
      t.equal((await login(world.seis, '127.0.0.1', 'wrong password')).statusCode, 400);
      const outside = await login(world.sete, '192.0.2.10');
      t.equal(outside.statusCode, 403, 'the allowed networks came from the DBS table');
      t.equal(outside.json().error, 'unauthorized_client');
      const other = await login({ ...world.sete, clientSecret: 'not-the-secret' });
      t.equal(other.statusCode, 401, 'a wrong secret fails (against the secret sealed at the first login: docs/rate-limits.md)');
      // The re-hash is a change made here; Passport's hash did not change: a re-import keeps ours.
      const report = await run();
      t.same(report.changes, []);
      t.match((await prisma.user.findUniqueOrThrow({ where: { id: 5 } })).passwordHash, /^\$argon2id\$/);
    });

    await t.test('the admin API shows the imported bcrypt secret once a login verified it (it is sealed then)', async (t) => {
      const auth = { authorization: `Bearer ${ctx.adminToken}` };
      const hashed = await ctx.adminApp.inject({ method: 'GET', url: '/admin/resellers/7/api', headers: auth });
      t.equal(hashed.statusCode, 200, hashed.body);
      t.match(hashed.json(), { resellerId: '7', clientId: '23', clientSecret: world.sete.clientSecret, email: 'api.sete@revenda.example' });
      t.notOk('secretRotationRequired' in hashed.json());
      const row = await prisma.client.findUniqueOrThrow({ where: { id: 23 } });
      t.equal(row.secretHash, null, 'the bcrypt hash is gone');
      const plain = await ctx.adminApp.inject({ method: 'GET', url: '/admin/resellers/6/api', headers: auth });
      t.equal(plain.json().clientSecret, world.seis.clientSecret);
      t.notOk('secretRotationRequired' in plain.json());
    });

    await t.test('conflicts are reported, all at once, and those accounts are left out', async (t) => {
      // An e-mail already used here by another reseller, and a client id taken by the resource server.
      await ctx.services.resellers.create({
        resellerId: 'x9',
        name: 'Criada aqui',
        email: 'api.nove@revenda.example',
        passwordHash: await ctx.services.hasher.hash('uma-senha-qualquer'),
        allowedNetworks: ['127.0.0.1/32'],
        secret: ctx.services.secretBox.seal('s'.repeat(40)),
      });
      await source.exec("INSERT INTO users (id, name, email, password) VALUES (9, 'Revenda Nove', 'API.Nove@revenda.example', ?)", [
        '$2y$10$abcdefghijklmnopqrstuu5Q8n9Qm0hVd9sVb9m3mX4f1F4W7t2d6',
      ]);
      await source.exec(
        "INSERT INTO oauth_clients (id, user_id, name, secret, redirect, personal_access_client, password_client, revoked) VALUES (29, 9, 'Revenda Nove', 'x', '', 0, 1, 0)",
      );
      await source.exec('UPDATE revendas SET oauth_client_id = 29 WHERE id = 9');
      await source.exec("INSERT INTO revendas (id, nome, oauth_client_id) VALUES (8, 'Revenda Oito', 24)");
      const before = await snapshot();
      const report = await run();
      t.same(report.conflicts, [
        'reseller 8: client id 24 is already used here by resource_server client "DBS API", not imported from Passport',
        'reseller 9: e-mail api.nove@revenda.example is already used here by reseller x9',
      ]);
      t.equal(report.committed, true, 'the rest is imported (here: nothing new)');
      t.same(await snapshot(), before);
      await source.exec('DELETE FROM revendas WHERE id IN (8, 9)');
    });

    await t.test('a field changed on both sides is a conflict until the operator says which side wins', async (t) => {
      await source.exec("UPDATE users SET name = 'Revenda Seis (Passport)' WHERE id = 5");
      await prisma.user.update({ where: { id: 5 }, data: { name: 'Revenda Seis (aqui)' } });
      const report = await run();
      t.same(report.conflicts, [
        'user api.seis@revenda.example: name changed both in Passport and here since the last import (use --prefer passport or --prefer local)',
      ]);
      t.equal(report.committed, true);
      t.equal((await prisma.user.findUniqueOrThrow({ where: { id: 5 } })).name, 'Revenda Seis (aqui)', 'the account is left as it is');
      const local = await run({ prefer: 'local' });
      t.same([local.committed, local.conflicts, local.changes], [true, [], []]);
      t.equal((await prisma.user.findUniqueOrThrow({ where: { id: 5 } })).name, 'Revenda Seis (aqui)');
      t.same((await run()).conflicts, [], 'Passport’s value is recorded as seen: no conflict any more');
      // Changed in Passport only: taken, and reported.
      await source.exec("UPDATE oauth_clients SET name = 'Revenda Seis Ltda' WHERE id = 19");
      const updated = await run();
      t.same(updated.changes, ['client 19: name updated from Passport']);
      t.equal((await prisma.client.findUniqueOrThrow({ where: { id: 19 } })).name, 'Revenda Seis Ltda');
    });

    await t.test('a client revoked in Passport is switched off here and its tokens are revoked', async (t) => {
      const issued = (await login(world.seis)).json() as { access_token: string };
      t.ok(await ctx.services.tokenStore.findAccessToken(issued.access_token));
      await source.exec('UPDATE oauth_clients SET revoked = 1 WHERE id = 19');
      const report = await run();
      t.same(report.changes, ['client 19: active updated from Passport']);
      t.equal((await prisma.client.findUniqueOrThrow({ where: { id: 19 } })).active, false);
      t.equal(await ctx.services.tokenStore.findAccessToken(issued.access_token), null);
      t.equal((await login(world.seis)).statusCode, 401);
    });
  });
});
