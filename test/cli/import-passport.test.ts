// `reseller-auth import-passport` as ops run it: the compiled CLI as a child process against a
// Passport database in a real MariaDB, then the service on the same data logging the reseller in.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { BACKENDS, TEST_ADMIN_TOKEN, build, passwordGrantBody } from '../helper.js';
import { MYSQL_URL, createMysqlSource, seedPassport } from '../passport/passport-fixtures.js';
import { compile, runCli } from './cli-process.js';

const skip = MYSQL_URL ? false : 'TEST_MYSQL_URL is not set: the import-passport CLI suite is skipped (source scripts/test-services.sh)';

t.test('import-passport through the CLI', { skip }, async (t) => {
  const source = await createMysqlSource(t);
  const world = await seedPassport(source);
  const { cli } = await compile(t);
  const dataDir = t.testdir({});
  const secretKey = randomBytes(32).toString('base64');
  // The URL (with its password) comes from the environment, not the command line that ps shows.
  const env = { DATA_DIR: dataDir, SECRET_KEY: secretKey, ADMIN_TOKENS: TEST_ADMIN_TOKEN, PASSPORT_DATABASE_URL: source.url };
  const args = ['import-passport', '--map-table', 'revendas', '--map-allowed-ip-column', 'ip_liberado'];

  const dry = await runCli(cli, [...args, '--dry-run'], env);
  t.equal(dry.code, 0, dry.stderr);
  t.match(JSON.parse(dry.stdout), { dryRun: true, committed: false, conflicts: [], unmappedClients: [24], tokens: { accessTokensAdded: 3 } });
  t.equal(JSON.parse(dry.stdout).changes.length, 6);

  const first = await runCli(cli, args, env);
  t.equal(first.code, 0, first.stderr);
  t.match(JSON.parse(first.stdout), { dryRun: false, committed: true, conflicts: [], tokens: { accessTokensAdded: 3, refreshTokensAdded: 2 } });
  const again = await runCli(cli, args, env);
  t.equal(again.code, 0, again.stderr);
  t.same(JSON.parse(again.stdout).changes, [], 'a second run changes nothing');
  t.match(again.stderr, /import-passport: nothing to change/);
  for (const output of [dry, first, again]) {
    t.notOk(output.stdout.includes(world.seis.clientSecret) || output.stderr.includes(world.seis.clientSecret), 'no secret is printed');
    t.notOk(output.stderr.includes('reseller_auth:reseller_auth'), 'nor the source password');
  }

  await source.exec("INSERT INTO revendas (id, nome, oauth_client_id) VALUES (8, 'Revenda Oito', 3)");
  const conflict = await runCli(cli, args, env);
  t.equal(conflict.code, 1);
  t.equal(conflict.stdout, '');
  t.match(
    conflict.stderr,
    'import-passport: 1 conflict(s); nothing was imported:\n  - reseller 8 (revendas row reseller 8): Passport client 3 is not a password-grant client',
  );
  await source.exec('DELETE FROM revendas WHERE id = 8');

  const usage = await runCli(cli, ['import-passport'], env);
  t.equal(usage.code, 64);
  t.match(usage.stderr, 'give the reseller mapping: either --map-table or --map-csv');

  // The service, started on the data the CLI wrote, logs the reseller in with its Passport credentials.
  const ctx = await build(t, BACKENDS[0] as (typeof BACKENDS)[number], { DATA_DIR: dataDir, SECRET_KEY: secretKey });
  const res = await ctx.publicApp.inject({
    method: 'POST',
    url: '/oauth/token',
    remoteAddress: '127.0.0.1',
    payload: passwordGrantBody(world.seis),
  });
  t.equal(res.statusCode, 200, res.body);
});
