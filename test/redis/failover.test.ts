// Failovers on the real test servers (scripts/test-redis-modes.sh): a `SENTINEL FAILOVER`, and a
// Cluster master killed (SIGKILL) so that its replica takes over. The service's client must
// follow the new master by itself and writes must work again within a bounded time; change
// events must resubscribe and tell their listeners to resync. The killed node is started again
// from its own configuration file (it rejoins as a replica) and every test waits for a healthy
// setup again before it ends, so the other suites keep their servers.
import { execFileSync } from 'node:child_process';
import calculateSlot from 'cluster-key-slot';
import { type Cluster, Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { type ChangeEvents, createRedisEvents } from '../../src/events.js';
import { COMMAND_TIMEOUT_MS } from '../../src/redis/connection.js';
import { confirmDurable } from '../../src/redis/durability.js';
import { connectRedis, lockRedisServers, redisMode, waitUntil } from '../redis-modes.js';

/** Failovers on a loaded 2-core machine: Sentinel promotes in ~1-3 s, a Cluster in ~3-5 s (node timeout 2 s). */
const FAILOVER_BOUND_MS = 30_000;
/**
 * A read during a failover ends within about COMMAND_TIMEOUT_MS (an answer or an error): a
 * generous multiple, as event-loop lag on a loaded 2-core machine adds to every read. A read
 * without its timeout waits for the failover to end, or forever (then the test times out).
 */
const READ_BOUND_MS = 5 * COMMAND_TIMEOUT_MS;

/** A plain connection for inspecting one server (not the service's client). */
async function inspect<T>(port: number, body: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    return await body(redis);
  } finally {
    redis.disconnect();
  }
}

const infoField = (info: string, field: string) => new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
const succeeds = (p: Promise<unknown>) =>
  p.then(
    () => true,
    () => false,
  );

/** Events whose listeners count their calls. */
function counting(t: Test, events: ChangeEvents): { calls: number } {
  const seen = { calls: 0 };
  events.subscribe('resource-servers', () => seen.calls++);
  t.teardown(() => events.close());
  return seen;
}

const sentinel = redisMode('sentinel');
t.test('Sentinel: SENTINEL FAILOVER — the client writes to the new master, events resync', { skip: sentinel.skip }, async (t) => {
  await lockRedisServers(t);
  const { redis, prefix, connection } = await connectRedis(t, sentinel);
  if (connection.mode !== 'sentinel') throw new Error('not a Sentinel connection');
  const [first] = connection.sentinels;
  const askSentinel = (...args: string[]) => inspect(first?.port ?? 0, (s) => s.call('SENTINEL', ...args));
  const masterPort = async () => Number(((await askSentinel('get-master-addr-by-name', connection.name)) as string[])[1]);
  const healthy = async () => {
    const port = await masterPort();
    return inspect(port, async (r) => infoField(await r.info('replication'), 'connected_slaves') === '1').catch(() => false);
  };
  await waitUntil(healthy, FAILOVER_BOUND_MS, 'the master to have its replica');
  t.teardown(() => waitUntil(healthy, FAILOVER_BOUND_MS, 'the old master to rejoin as a replica'));

  const other = await connectRedis(t, sentinel);
  const subscriber = counting(t, createRedisEvents(other.redis, prefix));
  const publisher = createRedisEvents(redis, prefix);
  t.teardown(() => publisher.close());
  await waitUntil(() => subscriber.calls === 1, 10_000, 'the first subscription');

  await redis.set(`${prefix}before`, 'kept', 'PX', 60_000);
  await confirmDurable(redis, [`${prefix}before`], 1000);
  const before = await masterPort();
  t.equal(await askSentinel('failover', connection.name), 'OK', 'SENTINEL FAILOVER accepted');
  const promoted = await waitUntil(async () => (await masterPort()) !== before, FAILOVER_BOUND_MS, 'Sentinel to promote the replica');
  const after = await masterPort();
  t.pass(`Sentinel promoted ${after} (was ${before}) in ${promoted} ms`);

  // Until Sentinel demotes it, the old master still accepts writes, and they are lost when it
  // becomes a replica: confirmDurable() is what refuses them (its replica left it), so a
  // revocation is never acknowledged in that window. The client moves on at the +switch-master
  // event (failoverDetector), not at Sentinel's demotion of the old master (~10 s later).
  const onNewMaster = async () => {
    if (infoField(await redis.info('server'), 'tcp_port') !== String(after)) return false;
    await redis.set(`${prefix}after`, 'written', 'PX', 60_000);
    return true;
  };
  const moved = await waitUntil(() => onNewMaster().catch(() => false), 5000, 'the client to write to the new master');
  t.pass(`the client writes to the new master ${moved} ms after the promotion`);
  // Durable again once the old master replicates from the new one: until then, with one replica,
  // confirmDurable() refuses (docs/redis.md, "Failover").
  const durable = await waitUntil(
    () =>
      confirmDurable(redis, [`${prefix}after`], 500).then(
        () => true,
        () => false,
      ),
    FAILOVER_BOUND_MS,
    'writes to be durable again',
  );
  t.pass(`writes are durable again ${durable} ms later`);
  t.equal(await redis.get(`${prefix}before`), 'kept', 'a write confirmed durable before the failover survived it');

  await waitUntil(() => subscriber.calls >= 2, FAILOVER_BOUND_MS, 'the subscriber to resync');
  t.pass('the subscriber reconnected and told its listeners to resync');
  const resynced = subscriber.calls;
  await waitUntil(
    async () => {
      await publisher.publish('resource-servers');
      await new Promise((r) => setTimeout(r, 200));
      return subscriber.calls > resynced;
    },
    10_000,
    'a message published after the failover',
  );
  t.pass('messages are delivered after the failover');
});

/** Kills (SIGKILL) the cluster node on `port`; the test's end starts it again and waits for a healthy cluster. */
async function killClusterNode(t: Test, cluster: Cluster, port: number): Promise<void> {
  const info = await inspect(port, (r) => r.info('server'));
  const pid = Number(infoField(info, 'process_id'));
  const configFile = infoField(info, 'config_file');
  t.ok(pid > 0 && configFile, `node ${port} is pid ${pid}, configured by ${configFile}`);
  process.kill(pid, 'SIGKILL');
  t.teardown(async () => {
    execFileSync('redis-server', [configFile]);
    await waitUntil(
      async () => {
        const live = cluster.nodes('master')[0]?.options.port ?? 7000;
        return inspect(live, async (r) => {
          const nodes = String(await r.call('CLUSTER', 'NODES'));
          const state = infoField(String(await r.call('CLUSTER', 'INFO')), 'cluster_state');
          return state === 'ok' && nodes.includes(`:${port}@`) && !/fail|disconnected/.test(nodes);
        }).catch(() => false);
      },
      FAILOVER_BOUND_MS,
      `node ${port} to rejoin the cluster`,
    );
  });
}

const cluster = redisMode('cluster');
t.test('Cluster: a killed master — its replica takes over and the client recovers', { skip: cluster.skip }, async (t) => {
  await lockRedisServers(t);
  const { redis, prefix } = await connectRedis(t, cluster);
  const client = redis as Cluster;
  const key = `${prefix}k`;
  await client.set(key, 'kept', 'PX', 60_000);
  await confirmDurable(client, [key], 1000);
  const slot = calculateSlot(key);
  const [master, replica] = client.slots[slot] ?? [];
  t.ok(master && replica, `slot ${slot}: master ${master}, replica ${replica}`);
  await killClusterNode(t, client, Number(master?.split(':')[1]));
  const started = Date.now();
  const failures: string[] = [];
  let slowest = 0;
  const recovered = await waitUntil(
    async () => {
      const attempt = Date.now();
      const value = await client.get(key).catch((err: Error) => {
        failures.push(err.message);
        return null;
      });
      slowest = Math.max(slowest, Date.now() - attempt);
      return value === 'kept' && succeeds(client.set(key, 'written', 'PX', 60_000));
    },
    FAILOVER_BOUND_MS,
    'the key to be served again',
  );
  t.pass(`served again after ${recovered} ms; meanwhile ${failures.length} failed reads (${[...new Set(failures)].join(', ')})`);
  // Each request still gets an answer (a 503 when it fails) within about the command timeout.
  t.ok(slowest < READ_BOUND_MS, `the slowest read took ${slowest} ms`);
  t.equal(await client.get(key), 'written', 'writes work');
  t.equal(client.slots[slot]?.[0], replica, 'the replica is the master of the slot now');
  t.ok(Date.now() - started < FAILOVER_BOUND_MS);
});

t.test('Cluster: change events move to another node when theirs goes away', { skip: cluster.skip }, async (t) => {
  await lockRedisServers(t);
  const a = await connectRedis(t, cluster);
  const b = await connectRedis(t, cluster);
  const publisher = createRedisEvents(a.redis, a.prefix);
  t.teardown(() => publisher.close());
  const subscriber = counting(t, createRedisEvents(b.redis, a.prefix));
  await waitUntil(() => subscriber.calls === 1, 10_000, 'the first subscription');
  // The node holding the subscriber's connection (named after the channel prefix).
  const client = b.redis as Cluster;
  let port = 0;
  for (const node of client.nodes('all')) {
    const list = String(await node.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    if (list.includes(`name=${a.prefix}events:subscriber`)) port = Number(node.options.port);
  }
  t.ok(port > 0, `the subscriber is on node ${port}`);
  await killClusterNode(t, client, port);
  await waitUntil(() => subscriber.calls >= 2, FAILOVER_BOUND_MS, 'the subscriber to resync on another node');
  t.pass('resubscribed on another node and told its listeners to resync');
  const resynced = subscriber.calls;
  await waitUntil(
    async () => {
      await publisher.publish('resource-servers');
      await new Promise((r) => setTimeout(r, 200));
      return subscriber.calls > resynced;
    },
    FAILOVER_BOUND_MS,
    'a message published after the node went away',
  );
  t.pass('messages are delivered again');
});
