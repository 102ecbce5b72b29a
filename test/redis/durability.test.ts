// confirmDurable (src/redis/durability.ts): a write is acknowledged only once replicas hold it
// (Redis WAIT, on the connection that carried the write). On real servers: the Sentinel-watched
// master and its replica, and the Cluster's masters each with a replica; a replica is frozen
// (SIGSTOP) to show that the wait fails, and that on a Cluster it is asked of the right master.
import calculateSlot from 'cluster-key-slot';
import { type Cluster, Redis } from 'ioredis';
import t from 'tap';
import { type RedisConnection, createRedisClient } from '../../src/redis/connection.js';
import { confirmDurable, mayWait } from '../../src/redis/durability.js';
import { connectRedis, lockRedisServers, redisMode } from '../redis-modes.js';

t.test('mayWait: WAIT can be sent where replicas may have to acknowledge, so services.ts opens a second connection only there', async (t) => {
  const standalone: RedisConnection = { mode: 'standalone', url: 'redis://127.0.0.1:6379' };
  const sentinel: RedisConnection = { mode: 'sentinel', sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'master' };
  const cluster: RedisConnection = { mode: 'cluster', nodes: [{ host: '127.0.0.1', port: 7000 }] };
  t.equal(mayWait(standalone), false, 'one server, REDIS_MIN_REPLICAS_ACK unset');
  t.equal(mayWait({ ...standalone, minReplicasAck: 1 }), true, 'one server with replicas it must wait for');
  t.equal(mayWait(sentinel), true, 'Sentinel');
  t.equal(mayWait(cluster), true, 'Cluster');
  t.equal(mayWait({ ...sentinel, minReplicasAck: 0 }), false, 'Sentinel, REDIS_MIN_REPLICAS_ACK=0');
  t.equal(mayWait({ ...cluster, minReplicasAck: 0 }), false, 'Cluster, REDIS_MIN_REPLICAS_ACK=0');
});

/** What confirmDurable rejects with: DependencyUnavailableError, a 503. */
const unavailable = { message: 'token store unavailable', dependency: 'token store' };

/** Freezes the Redis server on `port` (SIGSTOP) while `body` runs, then lets it go on. */
async function whileFrozen<T>(port: number, body: () => Promise<T>): Promise<T> {
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
  const info = await probe.info('server').finally(() => probe.disconnect());
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  process.kill(pid, 'SIGSTOP');
  try {
    return await body();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

t.test('standalone: nothing to wait for by default, and no round trip', async (t) => {
  // Never connected: a WAIT would fail at once.
  const redis = createRedisClient({ mode: 'standalone', url: 'redis://127.0.0.1:1' });
  t.teardown(() => redis.disconnect());
  await t.resolves(confirmDurable(redis, ['k'], 500));
  await t.rejects(confirmDurable(redis, ['k'], 500, 1), unavailable, 'an explicit count is asked of the server');
});

const sentinel = redisMode('sentinel');
t.test('Sentinel: the replica acknowledges; a frozen replica makes it fail in time', { skip: sentinel.skip }, async (t) => {
  await lockRedisServers(t);
  const { redis, prefix } = await connectRedis(t, sentinel);
  const key = `${prefix}revoked`;
  await redis.set(key, '1', 'PX', 60_000);
  await t.resolves(confirmDurable(redis, [key], 1000), 'one replica (the default under Sentinel) holds the write');
  await t.rejects(confirmDurable(redis, [key], 300, 2), { ...unavailable, cause: { message: /acknowledged by 1 of 2 required replicas/ } });
  const replicas = ((await redis.call('ROLE')) as [string, number, [string, string, string][]])[2];
  t.equal(replicas.length, 1, 'the test master has one replica');
  const replicaPort = Number(replicas[0]?.[1]);
  await whileFrozen(replicaPort, async () => {
    await redis.set(key, '2', 'PX', 60_000);
    const started = Date.now();
    await t.rejects(confirmDurable(redis, [key], 300), unavailable, 'the replica did not acknowledge');
    const elapsed = Date.now() - started;
    t.ok(elapsed >= 290 && elapsed < 1500, `failed after the timeout (${elapsed} ms)`);
  });
  await t.resolves(confirmDurable(redis, [key], 1500), 'acknowledged once the replica runs again');
});

const cluster = redisMode('cluster');
t.test('Cluster: WAIT is asked of the master owning each key', { skip: cluster.skip }, async (t) => {
  await lockRedisServers(t);
  const { redis, prefix } = await connectRedis(t, cluster);
  const client = redis as Cluster;
  // Two keys owned by different masters.
  const owner = (key: string) => client.slots[calculateSlot(key)] ?? [];
  const first = `${prefix}a`;
  let second = `${prefix}b`;
  for (let i = 0; owner(second)[0] === owner(first)[0]; i++) second = `${prefix}b${i}`;
  await Promise.all([client.set(first, '1', 'PX', 60_000), client.set(second, '1', 'PX', 60_000)]);
  await t.resolves(confirmDurable(client, [first, second], 1000), 'each master has a replica holding its write');
  await t.resolves(confirmDurable(client, [], 1000), 'no keys: every master');
  const replica = owner(first)[1];
  t.ok(replica, 'the first key has a replica');
  await whileFrozen(Number(replica?.split(':')[1]), async () => {
    await Promise.all([client.set(first, '2', 'PX', 60_000), client.set(second, '2', 'PX', 60_000)]);
    await t.resolves(confirmDurable(client, [second], 300), "the other master's replica runs");
    await t.rejects(confirmDurable(client, [first], 300), unavailable, "the first key's replica is frozen");
    await t.rejects(confirmDurable(client, [second, first], 300), unavailable, 'both: the frozen one fails it');
  });
  await t.resolves(confirmDurable(client, [first], 1500), 'acknowledged once the replica runs again');
});
