// The ops CLI (`reseller-auth`, package.json "bin") run as a process: against the embedded
// database (then the compiled server, started on the same DATA_DIR, accepts what the CLI
// created), and against PostgreSQL + Redis while a server instance is running (the CLI's
// revocations reach that server's token store at once).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { ApiAccessView } from '../../src/admin/views.js';
import { readMigrations } from '../../src/db/migrate.js';
import { type TestApp, build, eachBackend } from '../helper.js';
import { adminClient, invalidClient, requestToken } from '../routes/admin/real-http.js';
import { type Build, type Result, compile, firstLine, runCli, runProgram, startServer } from './cli-process.js';

let compiled: Build;
// script(1) (util-linux) runs a command on a pseudo-terminal.
const SCRIPT = ['/usr/bin/script', '/bin/script'].some((path) => existsSync(path));

t.before(async () => {
  compiled = await compile(t);
});

const json = <T = Record<string, unknown>>(result: Result): T => JSON.parse(result.stdout) as T;
const audit = (result: Result) =>
  result.stderr
    .split('\n')
    .filter((line) => line.includes('"audit":true'))
    .map((line) => {
      const { action, resellerId, adminTokenId, changed } = JSON.parse(line) as Record<string, unknown>;
      return { action, resellerId, adminTokenId, changed };
    });

t.test('the bin entry is the compiled CLI, runnable as an executable script', async (t) => {
  const pkg = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { bin: Record<string, string> };
  t.same(pkg.bin, { 'reseller-auth': 'dist/cli/main.js' });
  t.equal(await firstLine(compiled.cli), '#!/usr/bin/env node');
});

t.test('as a process: bad input exits non-zero with a sentence on standard error, nothing on standard output', async (t) => {
  const env = { DATA_DIR: join(tmpdir(), `reseller-auth-cli-untouched-${process.pid}`) };
  const none = await runCli(compiled.cli, [], env);
  t.equal(none.code, 64);
  t.match(none.stderr, /^Usage: reseller-auth <command>/);
  t.equal(none.stdout, '');
  const pkg = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  t.same(await runCli(compiled.cli, ['--version'], env), { code: 0, stdout: `reseller-auth ${pkg.version}\n`, stderr: '' });
  const config = await runCli(compiled.cli, ['reseller:show', '6'], { ...env, REDIS_URL: 'http://localhost' });
  t.same(
    [config.code, config.stderr, config.stdout],
    [78, 'reseller-auth: invalid configuration: REDIS_URL: must be a URL starting with redis:// or rediss://\n', ''],
  );
  // `echo "$PASSWORD" | reseller-auth …` with PASSWORD unset: echo sends an empty line.
  const unset = await runCli(compiled.cli, ['reseller:configure', '6', '--password-stdin'], env, '\n');
  t.same(
    [unset.code, unset.stdout, unset.stderr.split('\n')[0]],
    [64, '', 'reseller-auth: reseller:configure: --password-stdin: standard input is empty; is the variable you pipe in (echo "$PASSWORD" | …) set?'],
  );
  t.notOk(existsSync(env.DATA_DIR), 'nothing was created');
  // Nothing listens on port 1: the connection is refused at once.
  const unreachable = await runCli(compiled.cli, ['migrate'], { ...env, DATABASE_URL: 'postgres://reseller_auth:pw@127.0.0.1:1/reseller_auth' });
  t.same(
    [unreachable.code, unreachable.stdout, unreachable.stderr],
    [
      69,
      '',
      'reseller-auth: migrate: cannot reach the database at 127.0.0.1:1 (connection refused). Check DATABASE_URL, and that PostgreSQL is running and reachable from here.\n',
    ],
  );
});

eachBackend(t, async (t, backend) => {
  if (backend.name === 'embedded') {
    t.test('embedded: migrate, configure, rotate, register; then the server, started on the same DATA_DIR, accepts the credentials', async (t) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'reseller-auth-cli-'));
      t.teardown(() => rm(dataDir, { recursive: true, force: true }));
      // No ADMIN_TOKENS or SECRET_KEY: the CLI and the server share the generated ones.
      const env = { DATA_DIR: dataDir };
      const cli = (args: string[], stdin?: string) => runCli(compiled.cli, args, env, stdin);
      const outputs: Result[] = [];
      const ok = async (args: string[], stdin?: string) => {
        const res = await cli(args, stdin);
        outputs.push(res);
        t.equal(res.code, 0, res.code === 0 ? `${args[0]} exits 0` : res.stderr);
        return res;
      };

      const names = (await readMigrations()).map((m) => m.name);
      t.same(json(await ok(['migrate'])), { applied: names }, 'migrate applies every migration');
      t.notOk(existsSync(join(dataDir, 'secrets.json')), 'migrate needs and generates no secret');

      const configured = json<ApiAccessView>(
        await ok(
          [
            'reseller:configure',
            '6',
            '--name',
            'meu nome aqui',
            '--email',
            'Meu_Nome@Aqui.com.br',
            '--password-stdin',
            '--allowed-ip',
            '127.0.0.1, 10.0.0.7/24',
          ],
          'senha-da-revenda\n',
        ),
      );
      t.match(configured, {
        resellerId: '6',
        name: 'meu nome aqui',
        email: 'meu_nome@aqui.com.br',
        allowedIp: ['127.0.0.1/32', '10.0.0.0/24'],
        clientId: /^[1-9]\d*$/,
        clientSecret: /^[A-Za-z0-9]{40}$/,
        active: true,
      });
      const rotated = json<ApiAccessView>(await ok(['reseller:rotate-secret', '6']));
      t.not(rotated.clientSecret, configured.clientSecret);
      t.same({ ...rotated, clientSecret: configured.clientSecret, updatedAt: configured.updatedAt }, configured);
      const server = json<{ id: string; clientId: string; clientSecret: string }>(await ok(['resource-server:create', 'DBS API']));
      t.match(server, { id: /^[0-9a-f-]{36}$/, clientId: /^\d+$/, clientSecret: /^[A-Za-z0-9]{40}$/ });

      t.same(
        outputs.flatMap(audit),
        [
          {
            action: 'reseller.api.create',
            resellerId: '6',
            adminTokenId: 'cli',
            changed: ['name', 'email', 'password', 'allowedIp', 'clientSecret'],
          },
          { action: 'reseller.api.rotate-secret', resellerId: '6', adminTokenId: 'cli', changed: ['clientSecret'] },
          { action: 'resource-server.create', resellerId: undefined, adminTokenId: 'cli', changed: ['name', 'clientSecret'] },
        ],
        'the audit trail goes to standard error',
      );
      const logs = outputs.map((o) => o.stderr).join('\n');
      for (const secret of ['senha-da-revenda', String(configured.clientSecret), String(rotated.clientSecret), server.clientSecret]) {
        t.notOk(logs.includes(secret), 'no secret or password in the logs');
      }

      // PGlite is one process at a time: the server starts once the CLI is done.
      const running = await startServer(t, compiled.server, env);
      t.ok(running.adminToken, 'the server printed the generated admin token');
      // While it runs, the CLI says so and what to do instead (EX_TEMPFAIL: try again later).
      const inUse = await cli(['reseller:show', '6']);
      t.same(
        [inUse.code, inUse.stdout, inUse.stderr],
        [
          75,
          '',
          `reseller-auth: reseller:show: the embedded database in DATA_DIR (${dataDir}) is in use by a running server: the CLI cannot open it while \`npm start\` runs. Stop the server and run the command again, or make the change through the admin API (http://localhost:3001/admin/…).\n`,
        ],
      );
      const credentials = {
        clientId: rotated.clientId,
        clientSecret: String(rotated.clientSecret),
        email: 'meu_nome@aqui.com.br',
        password: 'senha-da-revenda',
      };
      const token = await requestToken(running.publicUrl, credentials, { localAddress: '127.0.0.1' });
      t.equal(token.status, 200, token.text);
      t.match(token.json(), { token_type: 'Bearer', expires_in: 3600, scope: '' });
      const old = await requestToken(running.publicUrl, { ...credentials, clientSecret: String(configured.clientSecret) });
      t.same([old.status, old.json()], [401, invalidClient], 'the rotated-away secret fails');
      const shown = await adminClient(running.adminUrl, String(running.adminToken)).get('/admin/resellers/6/api');
      t.same(shown.json(), rotated, 'the admin API shows what the CLI printed (same generated SECRET_KEY)');
      t.notOk(running.output().includes(String(rotated.clientSecret)), 'the server logged no secret');
    });
    return;
  }

  t.test('PostgreSQL + Redis, with a server running: what the CLI does reaches it at once', async (t) => {
    const ctx: TestApp = await build(t, backend);
    const { publicUrl } = await ctx.listen();
    const { config } = ctx;
    const env = {
      DATA_DIR: config.dataDir,
      DATABASE_URL: String(config.databaseUrl),
      REDIS_URL: String(config.redisUrl),
      REDIS_KEY_PREFIX: config.redisKeyPrefix,
      SECRET_KEY: String(config.secretKey?.toString('base64')),
      ADMIN_TOKENS: config.adminTokens.join(','),
    };
    let heard = 0;
    ctx.services.events.subscribe('clients', () => {
      heard += 1;
    });

    const configure = await runCli(
      compiled.cli,
      [
        'reseller:configure',
        '42',
        '--name',
        'Revenda 42',
        '--email',
        'api@revenda42.example',
        '--password',
        'senha-da-revenda-42',
        '--allowed-ip',
        '127.0.0.1',
      ],
      env,
    );
    t.equal(configure.code, 0, configure.stderr);
    const access = json<ApiAccessView>(configure);
    const credentials = {
      clientId: access.clientId,
      clientSecret: String(access.clientSecret),
      email: access.email,
      password: 'senha-da-revenda-42',
    };
    const issued = await requestToken(publicUrl, credentials);
    t.equal(issued.status, 200, 'the running server accepts what the CLI created');
    const { access_token: accessToken } = issued.json<{ access_token: string }>();
    t.ok(await ctx.services.tokenStore.findAccessToken(accessToken));

    // On a terminal (script(1) gives the CLI one), a table rather than JSON.
    if (SCRIPT) {
      const shown = await runProgram('script', ['-qec', `"${process.execPath}" "${compiled.cli}" reseller:show 42`, '/dev/null'], env);
      t.equal(shown.code, 0, 'reseller:show on a terminal exits 0');
      t.match(shown.stdout.replaceAll('\r\n', '\n'), `resellerId    42\nname          Revenda 42\nemail         api@revenda42.example\n`);
    }

    const disable = await runCli(compiled.cli, ['reseller:disable', '42'], env);
    t.equal(disable.code, 0, disable.stderr);
    t.equal(await ctx.services.tokenStore.findAccessToken(accessToken), null, "revoked in the running server's Redis");
    t.same((await requestToken(publicUrl, credentials)).json(), invalidClient);
    for (let i = 0; i < 100 && heard < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    t.ok(heard >= 1, "the running instance heard the CLI's change events");
  });
});
