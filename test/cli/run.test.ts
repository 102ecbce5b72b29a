// Every CLI command and error path, run in-process through runCli (what main.ts runs) with
// buffers for the streams: fast enough to cover them all on both backends. cli.test.ts runs the
// compiled CLI as a real process.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import t from 'tap';
import type { ApiAccessView } from '../../src/admin/views.js';
import { runCli } from '../../src/cli/run.js';
import { readMigrations } from '../../src/db/migrate.js';
import { build, eachBackend } from '../helper.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  log: string;
}

function runner(env: Record<string, string>) {
  return async (argv: string[], stdin = ''): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    let log = '';
    const code = await runCli(argv, {
      env: { NODE_ENV: 'development', LOG_LEVEL: 'info', ...env },
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      log: new Writable({
        write(chunk: Buffer, _encoding, done) {
          log += chunk.toString('utf8');
          done();
        },
      }),
      stdin: Readable.from([Buffer.from(stdin)]),
    });
    return { code, stdout, stderr, log };
  };
}

const json = <T = Record<string, unknown>>(run: Run): T => JSON.parse(run.stdout) as T;

t.test('help and usage errors need no configuration and touch nothing', async (t) => {
  const dataDir = join(tmpdir(), `reseller-auth-cli-untouched-${process.pid}`);
  const cli = runner({ DATA_DIR: dataDir });
  const help = await cli(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: reseller-auth <command> \[arguments\] \[options\]\n\nCommands:\n/);
  for (const name of [
    'migrate',
    'reseller:configure',
    'reseller:show',
    'reseller:rotate-secret',
    'reseller:disable',
    'resource-server:create',
    'resource-server:list',
    'resource-server:remove',
  ]) {
    t.match(help.stdout, `\n  reseller-auth ${name}`);
  }
  const commandHelp = await cli(['reseller:configure', '--help']);
  t.equal(commandHelp.code, 0);
  t.match(commandHelp.stdout, /^ {2}reseller-auth reseller:configure <resellerId>\n.*\n {4}--name <name>/);

  const unknown = await cli(['passport:client']);
  t.same([unknown.code, unknown.stdout], [64, '']);
  t.match(unknown.stderr, /^reseller-auth: unknown command "passport:client"\n\nUsage:/);

  const cases: [string[], string][] = [
    [['reseller:show'], 'reseller-auth: reseller:show: missing <resellerId>\n'],
    [['reseller:show', '6', '7'], 'reseller-auth: reseller:show: unexpected argument "7"\n'],
    [['reseller:show', '6', '--nome', 'x'], "reseller-auth: reseller:show: Unknown option '--nome'"],
    [
      ['reseller:configure', '6', '--password', 'senha-secreta', '--password-stdin'],
      'reseller-auth: reseller:configure: give either --password or --password-stdin, not both\n',
    ],
    [['reseller:configure', '6', '--name'], "reseller-auth: reseller:configure: Option '--name <value>' argument missing"],
  ];
  for (const [argv, message] of cases) {
    const res = await cli(argv);
    t.equal(res.code, 64, argv.join(' '));
    t.ok(res.stderr.startsWith(message), String(res.stderr.split('\n')[0]));
    t.match(res.stderr, `\n  reseller-auth ${argv[0]}`, 'followed by the usage of the command');
    t.notOk(res.stderr.includes('senha-secreta'), 'a password given on the command line is not echoed');
  }
  const badId = await cli(['reseller:show', 'bad!id']);
  t.same(badId, {
    code: 64,
    stdout: '',
    stderr: 'reseller-auth: reseller:show: invalid input\n  resellerId: must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"\n',
    log: '',
  });
  for (const command of ['reseller:rotate-secret', 'reseller:disable', 'reseller:configure']) {
    t.equal((await cli([command, 'bad!id'])).code, 64, command);
  }
  t.equal((await cli(['resource-server:create', ''])).code, 64);
  t.notOk(existsSync(dataDir), 'bad input opened nothing: no database, no generated secrets');
});

eachBackend(t, async (t, backend) => {
  let env: Record<string, string>;

  t.before(async () => {
    if (backend.name === 'embedded') {
      // A DATA_DIR of its own (build() would hold its PGlite open); no ADMIN_TOKENS or SECRET_KEY: generated.
      const dataDir = await mkdtemp(join(tmpdir(), 'reseller-auth-cli-'));
      t.teardown(() => rm(dataDir, { recursive: true, force: true }));
      env = { DATA_DIR: dataDir };
    } else {
      const { config } = await build(t, backend);
      env = {
        DATA_DIR: config.dataDir,
        DATABASE_URL: String(config.databaseUrl),
        REDIS_URL: String(config.redisUrl),
        REDIS_KEY_PREFIX: config.redisKeyPrefix,
        SECRET_KEY: String(config.secretKey?.toString('base64')),
        ADMIN_TOKENS: config.adminTokens.join(','),
      };
    }
  });

  t.test('migrate prints the migrations it applied', async (t) => {
    const cli = runner(env);
    const first = await cli(['migrate']);
    t.equal(first.code, 0, first.stderr);
    const all = (await readMigrations()).map((m) => m.name);
    // build() already migrated the PostgreSQL database; the embedded one starts empty.
    t.same(json(first), { applied: backend.name === 'embedded' ? all : [] });
    t.same(json(await cli(['migrate'])), { applied: [] }, 'then nothing is pending');
  });

  t.test(
    'in production, migrate needs only DATABASE_URL (the Helm migration Job has nothing else)',
    { skip: backend.name === 'embedded' && 'PostgreSQL only' },
    async (t) => {
      const production = runner({ NODE_ENV: 'production', DATABASE_URL: env.DATABASE_URL as string });
      const migrated = await production(['migrate']);
      t.equal(migrated.code, 0, migrated.stderr);
      t.same(json(migrated), { applied: [] });
      const show = await production(['reseller:show', '6']);
      t.equal(show.code, 78, 'other commands still need what the server needs');
      t.match(show.stderr, /REDIS_URL: is required when NODE_ENV=production; ADMIN_TOKENS: is required .*; SECRET_KEY: is required/);
    },
  );

  t.test('reseller commands: configure, show, rotate, disable, configure again; errors named per option', async (t) => {
    const cli = runner(env);
    const invalid = await cli([
      'reseller:configure',
      '6',
      '--name',
      'meu nome aqui',
      '--email',
      'meu_nome@aqui',
      '--allowed-ip',
      '192.168.123.456/32',
    ]);
    t.same(invalid, {
      code: 64,
      stdout: '',
      stderr: [
        'reseller-auth: reseller:configure: invalid input',
        '  email (--email): must be an e-mail address',
        '  allowedIp (--allowed-ip): "192.168.123.456/32": "192.168.123.456" is not a valid IPv4 or IPv6 address',
        '  password (--password): is required when the API access is first configured',
        '',
      ].join('\n'),
      log: invalid.log,
    });

    const created = await cli(
      ['reseller:configure', '6', '--name', 'meu nome aqui', '--email', 'Meu_Nome@Aqui.com.br', '--password-stdin', '--allowed-ip', '127.0.0.1, ::1'],
      'senha-da-revenda\n',
    );
    t.equal(created.code, 0, created.stderr);
    const access = json<ApiAccessView>(created);
    t.same(Object.keys(access), ['resellerId', 'name', 'email', 'allowedIp', 'clientId', 'clientSecret', 'active', 'createdAt', 'updatedAt']);
    t.match(access, {
      resellerId: '6',
      name: 'meu nome aqui',
      email: 'meu_nome@aqui.com.br',
      allowedIp: ['127.0.0.1/32', '::1/128'],
      clientId: /^[1-9]\d*$/,
      clientSecret: /^[A-Za-z0-9]{40}$/,
      active: true,
    });
    t.equal(created.stdout, `${JSON.stringify(access, null, 2)}\n`, 'pretty JSON on standard output, nothing else');
    t.equal(created.stderr, '');

    t.same(json(await cli(['reseller:show', '6'])), access);

    const partial = await cli(['reseller:configure', '6', '--allowed-ip', '10.0.0.7/24']);
    t.same({ ...json(partial), updatedAt: access.updatedAt }, { ...access, allowedIp: ['10.0.0.0/24'] }, 'options left out keep their values');

    const stdinPassword = await cli(['reseller:configure', '6', '--password-stdin'], 'nova-senha-123\r\n');
    t.equal(stdinPassword.code, 0, stdinPassword.stderr);
    const samePassword = await cli(['reseller:configure', '6', '--password', 'nova-senha-123']);
    t.same(auditOf(stdinPassword).changed, ['password']);
    t.same(auditOf(samePassword).changed, [], 'the line break was not part of the password');

    const rotated = json<ApiAccessView>(await cli(['reseller:rotate-secret', '6']));
    t.not(rotated.clientSecret, access.clientSecret);
    t.match(rotated.clientSecret, /^[A-Za-z0-9]{40}$/);
    const disabled = await cli(['reseller:disable', '6']);
    t.equal(disabled.code, 0);
    t.match(json(disabled), { resellerId: '6', clientId: access.clientId, active: false });
    t.notOk('clientSecret' in json(disabled), 'disable prints no secret');
    const enabled = json<ApiAccessView>(await cli(['reseller:configure', '6']));
    t.same({ ...enabled, updatedAt: rotated.updatedAt }, rotated, 'configure again: on, same client id and secret');

    const taken = await cli([
      'reseller:configure',
      '7',
      '--name',
      'outra',
      '--email',
      'MEU_NOME@aqui.com.br',
      '--password',
      'outra-senha',
      '--allowed-ip',
      '10.0.0.1',
    ]);
    t.same([taken.code, taken.stdout, taken.stderr], [1, '', 'reseller-auth: reseller:configure: The e-mail is already used by another reseller.\n']);
    const missing = await cli(['reseller:show', 'nobody']);
    t.same(
      [missing.code, missing.stdout, missing.stderr],
      [1, '', 'reseller-auth: reseller:show: No API access is configured for reseller nobody.\n'],
    );
    const notConfigured = await cli(['reseller:rotate-secret', 'nobody']);
    t.equal(notConfigured.code, 1);

    const logs = [invalid, created, partial, stdinPassword, samePassword, disabled, taken]
      .map((r) => (typeof r === 'object' && 'log' in r ? r.log : ''))
      .join('');
    for (const secret of ['senha-da-revenda', 'nova-senha-123', String(access.clientSecret), String(rotated.clientSecret)]) {
      t.notOk(logs.includes(secret), 'no secret or password in the logs');
    }
  });

  t.test('resource-server commands: create prints the secret once, list without it, remove', async (t) => {
    const cli = runner(env);
    const created = await cli(['resource-server:create', 'DBS API']);
    t.equal(created.code, 0, created.stderr);
    const server = json<{ id: string; name: string; clientId: string; clientSecret: string }>(created);
    t.same(Object.keys(server), ['id', 'name', 'clientId', 'clientSecret']);
    t.match(server, { id: /^[0-9a-f-]{36}$/, name: 'DBS API', clientId: /^\d+$/, clientSecret: /^[A-Za-z0-9]{40}$/ });
    t.same(auditOf(created), {
      audit: true,
      action: 'resource-server.create',
      resourceServerId: server.id,
      clientId: Number(server.clientId),
      adminTokenId: 'cli',
      changed: ['name', 'clientSecret'],
    });
    t.notOk(created.log.includes(server.clientSecret));

    const listed = json<{ items: Record<string, unknown>[] }>(await cli(['resource-server:list']));
    t.same(
      listed.items.map((i) => Object.keys(i)),
      [['id', 'name', 'clientId', 'createdAt']],
    );
    t.match(listed.items, [{ id: server.id, name: 'DBS API', clientId: server.clientId }]);

    const invalid = await cli(['resource-server:create', ' ']);
    t.same([invalid.code, invalid.stderr], [64, 'reseller-auth: resource-server:create: invalid input\n  name: must not be empty\n']);

    const removed = await cli(['resource-server:remove', server.id]);
    t.equal(removed.code, 0);
    t.same(json(removed), { id: server.id, name: 'DBS API', clientId: server.clientId, createdAt: listed.items[0]?.createdAt });
    t.same(json(await cli(['resource-server:list'])), { items: [] });
    const again = await cli(['resource-server:remove', server.id]);
    t.same([again.code, again.stderr], [1, `reseller-auth: resource-server:remove: No resource server ${server.id}.\n`]);
  });
});

/** The one audit line of a run. */
function auditOf(run: Run): Record<string, unknown> {
  const lines = run.log
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.audit === true);
  if (lines.length !== 1) throw new Error(`expected one audit line, got ${lines.length}`);
  const { level: _l, time: _t, pid: _p, hostname: _h, msg: _m, ...rest } = lines[0] as Record<string, unknown>;
  return rest;
}
