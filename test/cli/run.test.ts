// Every CLI command and error path, run in-process through runCli (what main.ts runs) with
// buffers for the streams: fast enough to cover them all on both backends. cli.test.ts runs the
// compiled CLI as a real process.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import t from 'tap';
import type { ApiAccessView } from '../../src/admin/views.js';
import { CliFailure, explain } from '../../src/cli/failures.js';
import { defaultFormat, render } from '../../src/cli/output.js';
import { runCli } from '../../src/cli/run.js';
import { loadConfig } from '../../src/config.js';
import { readMigrations } from '../../src/db/migrate.js';
import { DependencyUnavailableError } from '../../src/errors.js';
import { build, eachBackend } from '../helper.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  log: string;
}

function runner(env: Record<string, string>) {
  return async (argv: string[], stdin = '', isTTY = false): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    let log = '';
    const code = await runCli(argv, {
      // A resource-server removal waits out the reload interval (docs/revocation.md): short here.
      env: { NODE_ENV: 'development', LOG_LEVEL: 'info', RESOURCE_SERVERS_RELOAD_INTERVAL: '0.5', ...env },
      stdout: { write: (text: string) => (stdout += text), isTTY },
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

const COMMANDS = [
  'migrate',
  'reseller:configure',
  'reseller:show',
  'reseller:rotate-secret',
  'reseller:disable',
  'resource-server:create',
  'resource-server:list',
  'resource-server:remove',
  'import-passport',
];

t.test('help, --version and usage errors need no configuration and touch nothing', async (t) => {
  const dataDir = join(tmpdir(), `reseller-auth-cli-untouched-${process.pid}`);
  const cli = runner({ DATA_DIR: dataDir });
  const help = await cli(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: reseller-auth <command> \[arguments\] \[options\]\n\n.*\n\nCommands:\n/);
  for (const name of COMMANDS) t.match(help.stdout, new RegExp(`\\n  ${name} +[A-Z]`), `${name} is listed with its summary`);
  t.match(help.stdout, /-V, --version/);
  t.match(help.stdout, /75 embedded database in use, 78 bad configuration/);

  const pkg = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) t.same(await cli([flag]), { code: 0, stdout: `reseller-auth ${pkg.version}\n`, stderr: '', log: '' });

  // Every command's help: a Usage line, its arguments, its options (the global ones too), examples.
  for (const name of COMMANDS) {
    const commandHelp = await cli([name, '--help']);
    t.equal(commandHelp.code, 0, name);
    t.match(commandHelp.stdout, new RegExp(`^Usage: reseller-auth ${name}( <[A-Za-z]+>)* \\[options\\]\\n\\n`));
    t.match(commandHelp.stdout, /\nOptions:\n(.*\n)* {2}-o, --output json\|table {2,}output format/);
    t.match(commandHelp.stdout, new RegExp(`\\nExamples:\\n {2}.*reseller-auth ${name}`));
    t.same(await cli(['help', name]), commandHelp, '`help <command>` is `<command> --help`');
  }
  const configureHelp = (await cli(['reseller:configure', '-h'])).stdout;
  t.match(configureHelp, /\nArguments:\n {2}<resellerId> {2}the reseller's id in the panel/);
  t.match(configureHelp, /\n {2}--password-stdin {2,}Read the password from standard input/);
  t.match(configureHelp, /\n {2}echo "\$PASSWORD" \| reseller-auth reseller:configure 6 /);

  // An unknown command: what was meant, not the whole usage.
  const unknownCases: [string, string][] = [
    ['reseler:show', ' Did you mean "reseller:show"?'],
    ['show', ' Did you mean "reseller:show"?'],
    ['resource-server:delete', ' Did you mean one of "resource-server:create", "resource-server:remove"'],
    ['passport:client', ' Run "reseller-auth --help" for the list of commands.'],
  ];
  for (const [name, hint] of unknownCases) {
    const unknown = await cli([name, '6']);
    t.same([unknown.code, unknown.stdout], [64, ''], name);
    t.ok(unknown.stderr.startsWith(`reseller-auth: unknown command "${name}".${hint}`), unknown.stderr);
    t.equal(unknown.stderr.split('\n').length, 2, 'one line');
  }
  t.equal((await cli(['help', 'reseler:show'])).code, 64);

  // Our words for what parseArgs would reject, then the usage line and where to find more.
  const cases: [string[], string][] = [
    [['reseller:show'], 'missing <resellerId>'],
    [['reseller:show', '6', '7'], 'unexpected argument "7"'],
    [['reseller:show', '6', '--nome', 'x'], 'unknown option --nome.'],
    [['reseller:configure', '6', '--nome', 'x'], 'unknown option --nome. Did you mean "--name"?'],
    [['reseller:configure', '6', '--password', 'senha-secreta', '--password-stdin'], 'give either --password or --password-stdin, not both'],
    [['reseller:configure', '6', '--name'], '--name needs a value: --name <name>'],
    [['reseller:configure', '6', '--name', '--email', 'x@example.com'], '--name needs a value: --name <name>'],
    [['reseller:configure', '6', '--password-stdin=senha-secreta'], '--password-stdin takes no value'],
    [['reseller:show', '6', '--output', 'yaml'], '--output is json or table (got "yaml")'],
    [['reseller:show', '6', '-o'], '--output needs a value: --output json|table'],
  ];
  for (const [argv, message] of cases) {
    const res = await cli(argv);
    t.same(
      [res.code, res.stdout, res.stderr],
      [
        64,
        '',
        `reseller-auth: ${argv[0]}: ${message}\nUsage: reseller-auth ${argv[0]} <resellerId> [options]\nRun "reseller-auth ${argv[0]} --help" for its options and examples.\n`,
      ],
      argv.join(' '),
    );
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

t.test('the output follows where it goes: a table on a terminal, JSON otherwise; --output overrides', async (t) => {
  const access = {
    resellerId: '6',
    name: 'meu nome aqui',
    allowedIp: ['127.0.0.1/32', '10.0.0.0/24'],
    clientSecret: null,
    tokens: { accessTokensAdded: 3, refreshTokensAdded: 2 },
    changes: [],
  };
  t.equal(defaultFormat(true), 'table');
  t.equal(defaultFormat(false), 'json');
  t.equal(defaultFormat(undefined), 'json', 'a stream that is not a terminal (a pipe, a file)');
  t.equal(render(access, 'json'), `${JSON.stringify(access, null, 2)}\n`);
  t.equal(
    render(access, 'table'),
    [
      'resellerId    6',
      'name          meu nome aqui',
      'allowedIp     127.0.0.1/32',
      '              10.0.0.0/24',
      'clientSecret  -',
      'tokens        accessTokensAdded=3, refreshTokensAdded=2',
      'changes       -',
      '',
    ].join('\n'),
  );
  const page = {
    items: [
      { id: 'a', name: 'DBS API', clientId: '3' },
      { id: 'bb', name: 'Outra', clientId: '12' },
    ],
  };
  t.equal(render(page, 'table'), ['id  name     clientId', 'a   DBS API  3', 'bb  Outra    12', ''].join('\n'));
  t.equal(render({ items: [] }, 'table'), '(none)\n');
});

t.test('a DATA_DIR that cannot hold the embedded database: exit 78, naming DATA_DIR', async (t) => {
  // A regular file where the directory should be.
  const dir = await mkdtemp(join(tmpdir(), 'reseller-auth-cli-file-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'data');
  await writeFile(dataDir, '');
  const res = await runner({ DATA_DIR: dataDir })(['reseller:show', '6']);
  t.same(
    [res.code, res.stdout, res.stderr],
    [
      78,
      '',
      `reseller-auth: reseller:show: cannot open the embedded database in DATA_DIR (${dataDir}): it exists and is not a directory. Check DATA_DIR, or set DATABASE_URL.\n`,
    ],
  );
});

t.test('a token store that cannot be reached: exit 69, a sentence naming the Redis setting to check', async (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6390'), { code: 'ECONNREFUSED' });
  const config = loadConfig({ DATA_DIR: '/nonexistent', REDIS_URL: 'redis://:hunter2-pw@redis.internal:6390/0' });
  const failure = explain(new DependencyUnavailableError('token store', refused), config);
  t.type(failure, CliFailure);
  t.same(
    [(failure as CliFailure).exitCode, (failure as CliFailure).message],
    [
      69,
      'cannot reach the token store, Redis at redis.internal:6390 (connection refused). Check REDIS_URL, and that Redis is running and reachable from here.',
    ],
  );
  const plain = new Error('a programming error');
  t.equal(explain(plain, config), plain, 'anything else is left as it is (exit 70)');
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

  t.test(
    'a database that cannot be reached (69) or refuses the credentials (78): a sentence naming DATABASE_URL',
    { skip: backend.name === 'embedded' && 'PostgreSQL only' },
    async (t) => {
      // Port 1 on loopback: nothing listens there, the connection is refused at once.
      const unreachable = runner({ ...env, DATABASE_URL: 'postgres://reseller_auth:s3cr3t-pw@127.0.0.1:1/reseller_auth' });
      for (const argv of [['migrate'], ['reseller:show', '6'], ['resource-server:list']]) {
        const res = await unreachable(argv);
        t.same(
          [res.code, res.stdout, res.stderr],
          [
            69,
            '',
            `reseller-auth: ${argv[0]}: cannot reach the database at 127.0.0.1:1 (connection refused). Check DATABASE_URL, and that PostgreSQL is running and reachable from here.\n`,
          ],
          argv.join(' '),
        );
        t.notOk(res.log.includes('s3cr3t-pw'), "the URL's password is never printed");
      }
      // migrate connects with MIGRATION_DATABASE_URL when it is set: that is the one to check.
      const migration = await runner({ ...env, MIGRATION_DATABASE_URL: 'postgres://reseller_auth:pw@127.0.0.1:1/reseller_auth' })(['migrate']);
      t.same(
        [migration.code, migration.stderr],
        [
          69,
          'reseller-auth: migrate: cannot reach the database at 127.0.0.1:1 (connection refused). Check MIGRATION_DATABASE_URL, and that PostgreSQL is running and reachable from here.\n',
        ],
      );
      const url = new URL(env.DATABASE_URL as string);
      url.password = 'not-the-password';
      const refused = await runner({ ...env, DATABASE_URL: url.toString() })(['reseller:show', '6']);
      t.same(
        [refused.code, refused.stdout, refused.stderr],
        [
          78,
          '',
          `reseller-auth: reseller:show: the database at ${url.hostname}:${url.port || 5432} refused the connection (password authentication failed for user "${url.username}"). Check the user, password and database name in DATABASE_URL.\n`,
        ],
      );
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
    // Storage plays no part in what follows: checked once, where a run is fast.
    const thorough = backend.name !== 'embedded';
    const onTerminal = thorough ? await cli(['reseller:show', '6'], '', true) : undefined;
    if (onTerminal) {
      t.equal(onTerminal.code, 0);
      t.equal(
        onTerminal.stdout,
        [
          'resellerId    6',
          'name          meu nome aqui',
          'email         meu_nome@aqui.com.br',
          'allowedIp     127.0.0.1/32',
          '              ::1/128',
          `clientId      ${access.clientId}`,
          `clientSecret  ${access.clientSecret}`,
          'active        true',
          `createdAt     ${access.createdAt}`,
          `updatedAt     ${access.updatedAt}`,
          '',
        ].join('\n'),
        'a table on a terminal',
      );
      t.same(json(await cli(['reseller:show', '6', '--output', 'json'], '', true)), access, '--output json on a terminal');
      t.equal((await cli(['reseller:show', '6', '-o', 'table'])).stdout, onTerminal.stdout, '-o table into a pipe');
    }

    const partial = await cli(['reseller:configure', '6', '--allowed-ip', '10.0.0.7/24']);
    t.same({ ...json(partial), updatedAt: access.updatedAt }, { ...access, allowedIp: ['10.0.0.0/24'] }, 'options left out keep their values');

    // `echo "$PASSWORD" |` with PASSWORD unset: the flag that was given is named.
    const unset = await cli(['reseller:configure', '6', '--password-stdin'], '\n');
    t.same(
      [unset.code, unset.stdout, unset.stderr.split('\n')[0]],
      [
        64,
        '',
        'reseller-auth: reseller:configure: --password-stdin: standard input is empty; is the variable you pipe in (echo "$PASSWORD" | …) set?',
      ],
    );
    if (thorough) {
      const short = await cli(['reseller:configure', '6', '--password-stdin'], 'curta\n');
      t.same(
        [short.code, short.stderr],
        [64, 'reseller-auth: reseller:configure: invalid input\n  password (--password-stdin): must be at least 8 characters\n'],
      );
    }
    const stdinPassword = await cli(['reseller:configure', '6', '--password-stdin'], 'nova-senha-123\r\n');
    t.equal(stdinPassword.code, 0, stdinPassword.stderr);
    const samePassword = await cli(['reseller:configure', '6', '--password', 'nova-senha-123']);
    t.same(auditOf(stdinPassword).changed, ['password']);
    // The same password again changes nothing, so nothing is audited (docs/admin-api.md): the line
    // break was not part of the password.
    t.equal(samePassword.code, 0, samePassword.stderr);
    t.notOk(/"audit":true/.test(samePassword.log), 'the line break was not part of the password: nothing changed, no audit line');

    const rotated = json<ApiAccessView>(await cli(['reseller:rotate-secret', '6']));
    t.not(rotated.clientSecret, access.clientSecret);
    t.match(rotated.clientSecret, /^[A-Za-z0-9]{40}$/);
    const disabled = await cli(['reseller:disable', '6']);
    t.equal(disabled.code, 0);
    t.match(json(disabled), { resellerId: '6', clientId: access.clientId, clientSecret: rotated.clientSecret, active: false });
    t.same(Object.keys(json(disabled)), Object.keys(access), 'disable prints the shape show prints');
    if (thorough) t.same(json(disabled), json(await cli(['reseller:show', '6'])), 'disable prints what show prints');
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

    t.equal(created.stderr, '', 'no warning for a new name');

    // Storage plays no part in the name check and the client-id lookup: checked once, where a run is fast.
    if (backend.name !== 'embedded') {
      // The same name again (letter case aside): registered, with a warning naming both client ids.
      const twin = await cli(['resource-server:create', 'dbs api']);
      t.equal(twin.code, 0, twin.stderr);
      const second = json<{ id: string; clientId: string }>(twin);
      t.equal(
        twin.stderr,
        `reseller-auth: warning: a resource server named "DBS API" already exists (client id ${server.clientId}); this one has client id ${second.clientId}. Remove the one no longer used with: reseller-auth resource-server:remove <clientId>\n`,
      );
      t.equal(json<{ items: unknown[] }>(await cli(['resource-server:list'])).items.length, 2);

      // By client id (what create printed) or by id (the UUID of the admin API).
      const byClientId = await cli(['resource-server:remove', second.clientId]);
      t.equal(byClientId.code, 0, byClientId.stderr);
      t.match(json(byClientId), { id: second.id, name: 'dbs api', clientId: second.clientId });
    }
    const removed = await cli(['resource-server:remove', server.id]);
    t.equal(removed.code, 0);
    t.same(json(removed), { id: server.id, name: 'DBS API', clientId: server.clientId, createdAt: listed.items[0]?.createdAt });
    t.same(json(await cli(['resource-server:list'])), { items: [] });
    for (const gone of backend.name === 'embedded' ? [server.id] : [server.id, server.clientId]) {
      const again = await cli(['resource-server:remove', gone]);
      t.same(
        [again.code, again.stdout, again.stderr],
        [
          1,
          '',
          `reseller-auth: resource-server:remove: No resource server has the client id or id "${gone}" (reseller-auth resource-server:list shows them).\n`,
        ],
      );
    }
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
