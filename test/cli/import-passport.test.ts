// `reseller-auth import-passport` as ops run it: the compiled CLI as a child process against a
// Passport database in a real MariaDB, then the service on the same data logging the reseller in.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { BACKENDS, TEST_ADMIN_TOKEN, build, passwordGrantBody } from '../helper.js';
import { MYSQL_URL, createMysqlSource, seedPassport } from '../passport/passport-fixtures.js';
import { freePort } from '../faults/dedicated-servers.js';
import { compile, runCli } from './cli-process.js';

const skip = MYSQL_URL ? false : 'TEST_MYSQL_URL is not set: the import-passport CLI suite is skipped (source scripts/test-services.sh)';

// Generous: every run is a process opening the embedded database, on a loaded 2-core machine.
t.setTimeout(600_000);

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

  // One bad row (a personal-access client): left out with a warning, the rest imported, exit 0.
  await source.exec("INSERT INTO revendas (id, nome, oauth_client_id) VALUES (8, 'Revenda Oito', 3)");
  const invalid = await runCli(cli, [...args, '--output', 'json'], env);
  t.equal(invalid.code, 0, invalid.stderr);
  t.same(JSON.parse(invalid.stdout).invalid, ['reseller 8 (revendas row reseller 8): Passport client 3 is not a password-grant client']);
  t.match(invalid.stderr, 'warning: not imported: reseller 8 (revendas row reseller 8): Passport client 3 is not a password-grant client');
  t.match(
    invalid.stderr,
    'warning: password-grant client(s) 24 are in no mapping: once /oauth/token is routed here they get invalid_client',
    'the unmapped client that stops working at the cut-over',
  );
  // --map-where leaves the row out; so does deleted_at when set (Laravel's SoftDeletes).
  const filtered = await runCli(cli, [...args, '--map-where', 'id <> 8'], env);
  t.same([filtered.code, JSON.parse(filtered.stdout).invalid], [0, []], filtered.stderr);
  await source.exec('UPDATE revendas SET deleted_at = CURRENT_TIMESTAMP WHERE id = 8');
  const deleted = await runCli(cli, args, env);
  t.same([deleted.code, JSON.parse(deleted.stdout).invalid], [0, []], deleted.stderr);
  const included = await runCli(cli, [...args, '--map-include-deleted'], env);
  t.equal(JSON.parse(included.stdout).invalid.length, 1, '--map-include-deleted keeps it');
  await source.exec('DELETE FROM revendas WHERE id = 8');

  // A field changed on both sides: that account is left as it is, the rest is imported, exit 1.
  await source.exec("UPDATE users SET name = 'Revenda Seis (Passport)' WHERE id = 5");
  await source.exec('UPDATE oauth_access_tokens SET revoked = 1 WHERE id = ?', [world.tokens.sete]);
  const renamed = await runCli(cli, ['reseller:configure', '6', '--name', 'Revenda Seis (aqui)'], env);
  t.equal(renamed.code, 0, renamed.stderr);
  const conflict = await runCli(cli, args, env);
  t.equal(conflict.code, 1);
  t.equal(conflict.stdout, '');
  t.match(
    conflict.stderr,
    'import-passport: 1 conflict(s), those accounts were left as they are; everything else was imported:\n  - user api.seis@revenda.example: name changed both in Passport and here',
  );
  const local = await runCli(cli, [...args, '--prefer', 'local', '--output', 'json'], env);
  t.same([local.code, JSON.parse(local.stdout).conflicts], [0, []], local.stderr);
  t.equal(JSON.parse(local.stdout).tokens.accessTokensRevoked, 0, 'the revocation came with the run in conflict');

  // The runbook's --source-timezone values; a mistyped zone or URL is a usage error (64); an
  // unreachable database 69.
  for (const zone of ['-03:00', 'America/Sao_Paulo']) {
    const run = await runCli(cli, [...args, '--source-timezone', zone, '--dry-run'], env);
    t.equal(run.code, 0, `--source-timezone ${zone}: ${run.stderr}`);
  }
  const badZone = await runCli(cli, [...args, '--source-timezone', 'Sao Paulo'], env);
  t.same([badZone.code, badZone.stdout], [64, '']);
  t.match(badZone.stderr, 'an IANA name such as America/Sao_Paulo, UTC, or an offset such as -03:00 (got "Sao Paulo")');
  const badUrl = await runCli(cli, [...args, '--from', 'mysql//reader@db/dbs'], env);
  t.equal(badUrl.code, 64, badUrl.stderr);
  t.match(badUrl.stderr, 'the Passport database URL is not a URL');
  const closed = new URL(source.url);
  closed.port = String(await freePort());
  const unreachable = await runCli(cli, [...args, '--from', closed.toString()], env);
  t.equal(unreachable.code, 69, unreachable.stderr);
  t.match(unreachable.stderr, `cannot reach the Passport database at 127.0.0.1:${closed.port} (connection refused)`);
  t.notOk(unreachable.stderr.includes('reseller_auth:reseller_auth'), 'the password stays out of the message');

  // A table or column that is not there: named, as a usage error, never the driver's message.
  const missing = await runCli(cli, [...args, '--map-client-column', 'client_id'], env);
  t.same([missing.code, missing.stdout], [64, ''], missing.stderr);
  t.match(missing.stderr, 'the table "revendas" has no column "client_id" (--map-client-column)');

  // Passport 13's uuid client ids: refused up front, naming the layout (EX_DATAERR).
  const v13 = await createMysqlSource(t, { layout: 'v13' });
  const uuids = await runCli(cli, [...args, '--from', v13.url], env);
  t.same([uuids.code, uuids.stdout], [65, '']);
  t.match(uuids.stderr, 'import-passport: oauth_clients.id is char, not an integer: this is Passport with uuid client ids (Passport 13');

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
