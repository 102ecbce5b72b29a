// TLS in each Redis mode (docs/redis.md): this test makes a self-signed certificate with openssl
// and starts its own TLS-only servers on free ports (Debian's redis-server is built with TLS): one
// server, a master watched by one Sentinel (TLS to both), and a Cluster of 3 masters. The
// certificate is verified: without its CA the connection is refused.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { type RedisClient, createRedisClient, waitUntilReady } from '../../src/redis/connection.js';
import { waitUntil } from '../redis-modes.js';
import { freePort } from '../faults/dedicated-servers.js';

const available = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return execFileSync('redis-server', ['--version']).toString().length > 0;
  } catch {
    return false;
  }
})();

t.test('TLS', { skip: available ? false : 'openssl or redis-server is not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
  const children: ChildProcess[] = [];
  const clients: RedisClient[] = [];
  t.teardown(() => {
    for (const client of clients) client.disconnect();
    for (const child of children) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    {
      stdio: 'ignore',
    },
  );
  const ca = readFileSync(cert, 'utf8');
  const tlsArgs = ['--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no'];
  const redis = async (args: string[]) => {
    const port = await freePort();
    children.push(
      spawn(
        'redis-server',
        ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...tlsArgs, ...args],
        { stdio: 'ignore', cwd: dir },
      ),
    );
    return port;
  };
  const cli = (port: number, ...args: string[]) => execFileSync('redis-cli', ['--tls', '--cacert', cert, '-p', String(port), ...args]).toString();
  const answers = (port: number) =>
    waitUntil(
      () => {
        try {
          return cli(port, 'ping').includes('PONG');
        } catch {
          return false;
        }
      },
      10_000,
      `TLS redis on ${port}`,
    );
  const roundTrip = async (t: Test, client: RedisClient) => {
    clients.push(client);
    t.ok(await waitUntilReady(client, 10_000), 'ready over TLS');
    for (const n of [1, 2, 3]) await client.set(`tls:${n}`, String(n));
    t.same(await Promise.all([1, 2, 3].map((n) => client.get(`tls:${n}`))), ['1', '2', '3']);
  };

  t.test('one server: rediss://', async (t) => {
    const port = await redis([]);
    await answers(port);
    await roundTrip(
      t,
      createRedisClient(`rediss://127.0.0.1:${port}`, () => {}, { tls: { ca } }),
    );
    const errors: string[] = [];
    const untrusted = createRedisClient(`rediss://127.0.0.1:${port}`, (err) => errors.push(err.message));
    clients.push(untrusted);
    await waitUntil(() => errors.length > 0, 10_000, 'the certificate to be refused');
    t.match(errors[0], /self[- ]signed certificate/, 'the certificate is verified');
    t.equal(untrusted.status === 'ready', false);
  });

  t.test('Sentinel: TLS to the Sentinel and to the master', async (t) => {
    const master = await redis([]);
    await answers(master);
    const sentinelPort = await freePort();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port 0`,
        `tls-port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        'tls-replication yes',
        `tls-cert-file ${cert}`,
        `tls-key-file ${key}`,
        `tls-ca-cert-file ${cert}`,
        'tls-auth-clients no',
        `sentinel monitor tlsmaster 127.0.0.1 ${master} 1`,
        '',
      ].join('\n'),
    );
    children.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
    await answers(sentinelPort);
    await roundTrip(
      t,
      createRedisClient({ mode: 'sentinel', sentinels: [{ host: '127.0.0.1', port: sentinelPort }], name: 'tlsmaster', tls: true }, () => {}, {
        tls: { ca },
      }),
    );
  });

  t.test('Cluster: TLS to every node', async (t) => {
    const clusterArgs = ['--cluster-enabled', 'yes', '--tls-cluster', 'yes'];
    const ports: number[] = [];
    for (const n of [0, 1, 2]) ports.push(await redis([...clusterArgs, '--cluster-config-file', `nodes-${n}.conf`]));
    for (const port of ports) await answers(port);
    cli(ports[0] as number, '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes');
    await waitUntil(() => /cluster_state:ok/.test(cli(ports[0] as number, 'cluster', 'info')), 15_000, 'the TLS cluster');
    await roundTrip(
      t,
      createRedisClient({ mode: 'cluster', nodes: [{ host: '127.0.0.1', port: ports[0] as number }], tls: true }, () => {}, { tls: { ca } }),
    );
  });
});
