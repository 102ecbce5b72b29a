// The Redis connection (src/redis/connection.ts) in each mode, and its configuration
// (docs/redis.md): REDIS_URL, REDIS_SENTINELS + REDIS_SENTINEL_NAME, REDIS_CLUSTER_NODES.
import { type ChildProcess, spawn } from 'node:child_process';
import { Cluster, type Redis } from 'ioredis';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';
import { COMMAND_TIMEOUT_MS, type RedisConnection, createRedisClient, waitUntilReady } from '../../src/redis/connection.js';
import { REDIS_MODES, connectRedis, lockRedisServers, waitUntil } from '../redis-modes.js';
import { freePort } from '../faults/dedicated-servers.js';

t.test('configuration: one mode, named by its variables', async (t) => {
  t.same(loadConfig({ REDIS_URL: 'rediss://:pw@redis.example:6380/0' }).redis, {
    mode: 'standalone',
    url: 'rediss://:pw@redis.example:6380/0',
    username: undefined,
    password: undefined,
    tls: false,
    minReplicasAck: undefined,
  });
  t.same(
    loadConfig({
      REDIS_SENTINELS: 'sentinel-0:26379, sentinel-1:26379,[::1]:26380',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'sp',
      REDIS_PASSWORD: 'rp',
      REDIS_TLS: 'true',
    }).redis,
    {
      mode: 'sentinel',
      sentinels: [
        { host: 'sentinel-0', port: 26379 },
        { host: 'sentinel-1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      sentinelPassword: 'sp',
      username: undefined,
      password: 'rp',
      tls: true,
      minReplicasAck: undefined,
    },
  );
  t.same(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000,b:7001', REDIS_USERNAME: 'svc', REDIS_MIN_REPLICAS_ACK: '2' }).redis, {
    mode: 'cluster',
    nodes: [
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ],
    username: 'svc',
    password: undefined,
    tls: false,
    minReplicasAck: 2,
  });
  t.equal(loadConfig({}).redis, undefined, 'no Redis: the in-process stores');
  t.equal(loadConfig({ REDIS_MIN_REPLICAS_ACK: '' }).redis, undefined, 'an empty variable is unset');
});

t.test('configuration errors name the variable', async (t) => {
  const fails = (env: Record<string, string>, message: RegExp) =>
    t.throws(() => loadConfig(env), { name: 'ConfigError', message }, JSON.stringify(env));
  fails({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'a:7000' }, /REDIS_CLUSTER_NODES: cannot be combined with REDIS_URL/);
  fails(
    { REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'a:7000' },
    /REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS/,
  );
  fails({ REDIS_SENTINELS: 'a:26379' }, /REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS/);
  fails({ REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINEL_NAME: is set without REDIS_SENTINELS/);
  fails({ REDIS_CLUSTER_NODES: 'a:7000,b' }, /REDIS_CLUSTER_NODES: "b" is not host:port/);
  fails({ REDIS_CLUSTER_NODES: 'redis://a:7000' }, /REDIS_CLUSTER_NODES: "redis:\/\/a:7000" is not host:port/);
  fails({ REDIS_SENTINELS: 'a:0', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS: "a:0" is not host:port/);
  fails({ REDIS_URL: 'redis://a:6379', REDIS_TLS: 'true' }, /REDIS_TLS: with REDIS_URL, use a rediss:\/\/ URL instead/);
  fails({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_TLS: 'yes' }, /REDIS_TLS:/);
  fails({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_MIN_REPLICAS_ACK: '-1' }, /REDIS_MIN_REPLICAS_ACK:/);
  fails({ REDIS_KEY_PREFIX: 'ra{x}:' }, /REDIS_KEY_PREFIX:/);
  t.ok(new ConfigError('x') instanceof Error);
});

t.test('production: Sentinel or Cluster stands for REDIS_URL', async (t) => {
  const production = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://db/x',
    ADMIN_TOKENS: 'a'.repeat(32),
    SECRET_KEY: Buffer.alloc(32, 1).toString('base64'),
  };
  t.throws(() => loadConfig(production), { message: /REDIS_URL: is required when NODE_ENV=production/ });
  t.equal(loadConfig({ ...production, REDIS_CLUSTER_NODES: 'a:7000' }).redis?.mode, 'cluster');
  t.equal(loadConfig({ ...production, REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm' }).redis?.mode, 'sentinel');
});

t.test('TLS: the client is built with TLS for rediss:// and REDIS_TLS, to the sentinels too', async (t) => {
  const standalone = createRedisClient({ mode: 'standalone', url: 'rediss://127.0.0.1:1' });
  const sentinel = createRedisClient({ mode: 'sentinel', sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'm', tls: true }, () => {}, {
    tls: { ca: 'CA' },
  });
  const cluster = createRedisClient({ mode: 'cluster', nodes: [{ host: '127.0.0.1', port: 1 }], tls: true });
  const plain = createRedisClient({ mode: 'sentinel', sentinels: [{ host: '127.0.0.1', port: 1 }], name: 'm' });
  t.teardown(() => {
    for (const client of [standalone, sentinel, cluster, plain]) client.disconnect();
  });
  t.same((standalone as Redis).options.tls, {}, 'rediss://');
  t.same((sentinel as Redis).options.tls, { ca: 'CA' }, 'to the master');
  t.same((sentinel as Redis).options.sentinelTLS, { ca: 'CA' }, 'to the sentinels');
  t.equal((sentinel as Redis).options.enableTLSForSentinelMode, true);
  t.same((cluster as Cluster).options.redisOptions?.tls, {}, 'to every cluster node');
  t.equal((plain as Redis).options.tls, undefined, 'no TLS unless asked for');
});

for (const mode of REDIS_MODES) {
  t.test(`${mode.mode}: connects to a writable master, with the service's bounds`, { skip: mode.skip }, async (t) => {
    if (mode.mode !== 'standalone') await lockRedisServers(t);
    const { redis, prefix } = await connectRedis(t, mode);
    t.equal(redis instanceof Cluster, mode.mode === 'cluster', 'a Cluster client for the cluster only');
    // Keys in several slots: on the cluster they live on different masters.
    for (const n of [1, 2, 3, 4, 5]) await redis.set(`${prefix}k${n}`, `v${n}`, 'PX', 60_000);
    t.same(await Promise.all([1, 2, 3, 4, 5].map((n) => redis.get(`${prefix}k${n}`))), ['v1', 'v2', 'v3', 'v4', 'v5']);
    const masters = redis instanceof Cluster ? redis.nodes('master') : [redis];
    for (const node of masters) t.equal(((await node.call('ROLE')) as unknown[])[0], 'master');
    if (mode.mode === 'cluster') t.equal(masters.length, 3, 'three masters');
  });
}

t.test('a frozen Redis: a command fails after the command timeout, once, and the client recovers', async (t) => {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  t.teardown(() => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  const redis = createRedisClient(`redis://127.0.0.1:${port}`);
  t.teardown(() => redis.disconnect());
  await waitUntil(() => waitUntilReady(redis, 200), 10_000, 'the test redis-server');
  await redis.set('k', 'v');
  child.kill('SIGSTOP');
  const started = Date.now();
  const results = await Promise.allSettled([redis.get('k'), redis.get('k')]);
  const elapsed = Date.now() - started;
  t.same(
    results.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  t.ok(elapsed >= COMMAND_TIMEOUT_MS - 50 && elapsed < COMMAND_TIMEOUT_MS + 700, `answered in ${elapsed} ms: one command timeout, not two`);
  // The silent connection was dropped: while the reconnection waits for the frozen server, a
  // command fails at once instead of waiting out another timeout.
  const next = Date.now();
  await t.rejects(redis.get('k'));
  t.ok(Date.now() - next < 500, `the next command failed in ${Date.now() - next} ms`);
  child.kill('SIGCONT');
  await waitUntil(async () => (await redis.get('k').catch(() => null)) === 'v', 10_000, 'the same client to read again');
  t.pass('recovered without a new client');
});

const sockets = () => process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;
for (const mode of REDIS_MODES) {
  t.test(`${mode.mode}: quit() leaves no connection open`, { skip: mode.skip }, async (t) => {
    if (mode.mode !== 'standalone') await lockRedisServers(t);
    const before = sockets();
    const redis = createRedisClient(mode.connection as RedisConnection);
    t.ok(await waitUntilReady(redis, 10_000));
    await redis.quit();
    // Under Sentinel the failover detector's connections to every sentinel must close too.
    await waitUntil(() => sockets() <= before, 5000, 'every socket of the client to close');
    t.pass('no socket left to keep the process alive');
  });
}
