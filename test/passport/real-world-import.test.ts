// The import on Passport databases as real installs have them (real-world-passport.ts: tables
// from Passport's own migrations, PHP-made hashes and tokens, São Paulo time), in a real MariaDB:
// every Passport 10–12 layout imports; the uuid layouts are refused before anything is read; bad
// rows are left out and listed while the rest is imported; the resellers then log in (as
// Laravel's TrimStrings let them), their Passport tokens introspect and refresh; a password
// changed in Passport after a login re-hashed it here is taken, and Passport's revocations
// arrive even while another account is in conflict.
import t from 'tap';
import { importDeps } from '../../src/passport/import-deps.js';
import { type ImportReport, importPassport } from '../../src/passport/importer.js';
import { UnsupportedPassportLayoutError } from '../../src/passport/passport-layout.js';
import { BACKENDS, type TestApp, build, eachBackend } from '../helper.js';
import { FIRST_IMPORT_CHANGES, MYSQL_URL, type PassportReseller, createMysqlSource } from './passport-fixtures.js';
import { PASSPORT_LAYOUTS } from './passport-migrations.js';
import { realImportOptions, seedRealWorld } from './real-world-passport.js';

const skip = MYSQL_URL ? false : 'TEST_MYSQL_URL is not set: the real-world Passport suite is skipped (source scripts/test-services.sh)';

const INVALID = [
  'reseller 10 (revendas row reseller 10): Passport client 26 has no secret (a public client cannot authenticate here)',
  'reseller 11 (revendas row reseller 11): allowed networks: ',
  'reseller 8 (revendas row reseller 8): Passport client 25 authenticates users of provider "revendedores", not "users" (--users-provider, whose table is --users-table)',
];

/** A first run's report: resellers 6 and 7 imported, three rows left out, client 24 in no mapping. */
const FIRST_REPORT = {
  dryRun: false,
  committed: true,
  conflicts: [],
  invalid: INVALID,
  changes: FIRST_IMPORT_CHANGES,
  unmappedClients: [24],
  tokens: { accessTokensAdded: 3, accessTokensRevoked: 0, refreshTokensAdded: 2, refreshTokensRevoked: 0, expiredRemoved: 0, skipped: 0 },
};

/** The report with the CIDR parser's own wording cut off (the row and the column are what matter here). */
function shape(report: ImportReport) {
  return {
    ...report,
    invalid: report.invalid
      .map((line) => (line.includes('allowed networks: ') ? `${line.split('allowed networks: ')[0]}allowed networks: ` : line))
      .sort(),
  };
}

t.test('every Passport layout: 10–12 import alike, the uuid layouts are refused up front', { skip }, async (t) => {
  const ctx: TestApp = await build(t, BACKENDS[0] as (typeof BACKENDS)[number]);
  for (const layout of PASSPORT_LAYOUTS) {
    await t.test(layout, async (t) => {
      const source = await createMysqlSource(t, { layout });
      const run = () => importPassport(realImportOptions(source.url, { dryRun: true }), importDeps(ctx.services));
      if (layout.includes('--uuids') || layout === 'v13') {
        await t.rejects(run(), UnsupportedPassportLayoutError);
        await t.rejects(run(), {
          message:
            /^oauth_clients\.id is (char|uuid), not an integer: this is Passport with uuid client ids \(Passport 13, or 10–12 installed with passport:install --uuids\)/,
        });
        return;
      }
      await seedRealWorld(source);
      const report = await run();
      t.same(shape(report), { ...FIRST_REPORT, dryRun: true, committed: false });
      t.match(
        report.invalid.find((l) => l.includes('reseller 11')),
        /192\.168\.123\.456/,
        'the bad address is named',
      );
    });
  }
  await t.test('a soft-deleted Passport user (users.deleted_at set) is left out', async (t) => {
    const source = await createMysqlSource(t);
    await source.exec('ALTER TABLE users ADD COLUMN deleted_at timestamp NULL');
    await seedRealWorld(source);
    await source.exec('UPDATE users SET deleted_at = CURRENT_TIMESTAMP WHERE id = 7');
    const report = await importPassport(realImportOptions(source.url, { dryRun: true }), importDeps(ctx.services));
    t.ok(
      report.invalid.includes('reseller 7 (revendas row reseller 7): Passport user 7 is soft-deleted (deleted_at is set)'),
      report.invalid.join('\n'),
    );
    t.same(report.changes, FIRST_IMPORT_CHANGES.slice(0, 3), 'reseller 6 is imported');
  });
  await t.test('Passport 13 with integer ids (grant_types instead of password_client) imports', async (t) => {
    const source = await createMysqlSource(t, { layout: 'v12.3.0' });
    await source.exec('ALTER TABLE oauth_clients DROP COLUMN password_client, DROP COLUMN personal_access_client, ADD COLUMN grant_types text NULL');
    await seedRealWorld(source, { passwordClientColumn: false });
    const report = await importPassport(realImportOptions(source.url, { dryRun: true }), importDeps(ctx.services));
    t.same([report.changes, report.unmappedClients, report.invalid.length], [FIRST_IMPORT_CHANGES, [24], 3]);
  });
});

eachBackend(t, async (t, backend) => {
  t.test('a real DBS Passport database, cut over', { skip }, async (t) => {
    const source = await createMysqlSource(t);
    const world = await seedRealWorld(source);
    const ctx: TestApp = await build(t, backend, { PASSPORT_PUBLIC_KEY: world.publicPem.replace(/\n/g, '\\n'), PASSPORT_APP_KEY: world.appKey });
    const prisma = ctx.services.db.prisma;
    const run = (over = {}) => importPassport(realImportOptions(source.url, over), importDeps(ctx.services));
    const token = (body: Record<string, string>) =>
      ctx.publicApp.inject({ method: 'POST', url: '/oauth/token', remoteAddress: '127.0.0.1', payload: body });
    const login = (r: PassportReseller, password = r.password) =>
      token({ grant_type: 'password', client_id: String(r.clientId), client_secret: r.clientSecret, username: r.email, password, scope: '' });

    await t.test('bad rows are listed and left out; everything else is imported, São Paulo times read right', async (t) => {
      const report = await run();
      t.same(shape(report), FIRST_REPORT);
      const imported = await prisma.legacyAccessToken.findUniqueOrThrow({ where: { id: world.tokens.seis } });
      t.equal(imported.expiresAt?.toISOString(), world.tokenExpiry.toISOString(), 'the wall-clock expiry read in America/Sao_Paulo');
      t.same(
        (await prisma.reseller.findMany({ orderBy: { resellerId: 'asc' } })).map((r) => [r.resellerId, r.clientId]),
        [
          ['6', 19],
          ['7', 23],
        ],
      );
    });

    await t.test("the resellers log in; strings are trimmed as Laravel's TrimStrings did, passwords are not", async (t) => {
      const padded = await token({
        grant_type: ' password ',
        client_id: ' 19',
        client_secret: `${world.seis.clientSecret} `,
        username: ` ${world.seis.email} `,
        password: world.seis.password,
        scope: ' ',
      });
      t.equal(padded.statusCode, 200, padded.body);
      t.match((await prisma.user.findUniqueOrThrow({ where: { id: 5 } })).passwordHash, /^\$argon2id\$/, 'the cost-12 bcrypt hash was re-hashed');
      t.equal((await login(world.seis, ` ${world.seis.password}`)).statusCode, 400, 'a password keeps its spaces');
      const sete = await login(world.sete);
      t.equal(sete.statusCode, 200, `PHP's argon2id hash verifies: ${sete.body}`);
    });

    await t.test("Passport's own JWT (float iat/nbf/exp) introspects, its refresh token (integer user_id) is exchanged", async (t) => {
      const rsSecret = 'rs-secret-for-the-dbs-api-0123456789';
      const rs = await ctx.services.resourceServers.create('DBS API', ctx.services.secretBox.seal(rsSecret));
      await ctx.services.events.publish('resource-servers');
      const answer = await ctx.publicApp.inject({
        method: 'POST',
        url: '/oauth/introspect',
        headers: { authorization: `Basic ${Buffer.from(`${rs.clientId}:${rsSecret}`).toString('base64')}` },
        payload: { token: world.seisJwt },
      });
      t.match(answer.json(), { active: true, client_id: '19', sub: '5', reseller_id: '6', exp: Math.floor(world.tokenExpiry.getTime() / 1000) });
      const exchanged = await token({
        grant_type: 'refresh_token',
        client_id: '19',
        client_secret: world.seis.clientSecret,
        refresh_token: world.seisRefreshToken,
      });
      t.equal(exchanged.statusCode, 200, exchanged.body);
    });

    await t.test('a password changed in Passport after the re-hash here is taken; revocations arrive while another account conflicts', async (t) => {
      const newPassword = 'senha-nova-trocada-no-passport';
      await source.exec('UPDATE users SET password = ? WHERE id = 5', [await world.bcrypt12(newPassword)]);
      // Reseller 7's client name changes on both sides: a conflict for that account only.
      await source.exec("UPDATE oauth_clients SET name = 'Revenda Sete (Passport)' WHERE id = 23");
      await prisma.client.update({ where: { id: 23 }, data: { name: 'Revenda Sete (aqui)' } });
      // Passport revokes reseller 7's tokens.
      await source.exec('UPDATE oauth_access_tokens SET revoked = 1 WHERE id = ?', [world.tokens.sete]);
      await source.exec('UPDATE oauth_refresh_tokens SET revoked = 1 WHERE id = ?', [world.refresh.sete]);
      const report = await run();
      t.same(report.conflicts, ['client 23: name changed both in Passport and here since the last import (use --prefer passport or --prefer local)']);
      t.same(report.changes, ['user api.seis@revenda.example: password updated from Passport']);
      t.equal(report.committed, true);
      t.match(report.tokens, { accessTokensRevoked: 1, refreshTokensRevoked: 1 }, "the conflicting account's revocations arrive");
      t.equal((await prisma.legacyAccessToken.findUniqueOrThrow({ where: { id: world.tokens.sete } })).revoked, true);
      t.equal((await prisma.legacyRefreshToken.findUniqueOrThrow({ where: { id: world.refresh.sete } })).revoked, true);
      t.equal((await prisma.client.findUniqueOrThrow({ where: { id: 23 } })).name, 'Revenda Sete (aqui)', 'the conflicting account is left as it is');
      t.equal((await login(world.seis)).statusCode, 400, 'the old password no longer works');
      t.equal((await login(world.seis, newPassword)).statusCode, 200);
      // The new hash was re-hashed at that login: a further import changes nothing.
      const again = await run({ prefer: 'local' });
      t.same([again.conflicts, again.changes], [[], []]);
      t.same((await run()).changes, []);
    });
  });
});
