// Readiness asks what serving needs (docs/deployment.md, "Health"): the database answers a query and Redis takes
// writes. Over real redis-servers started here: a replica answers PING but refuses writes
// (READONLY), so readiness must be 503 on it and 200 once it is promoted, as Sentinel promotes one;
// a Redis Cluster is ready only while cluster_state is ok and every master answers as a master.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { writableMaster } from '../../src/token-store/writable-master.js';
import { type DedicatedRedis, dedicatedRedis, freePort, redisServerMissing, waitFor } from '../faults/dedicated-servers.js';
import { BACKENDS, build } from '../helper.js';

const run = promisify(execFile);

/** A redis-server of the test's own, stopped at teardown; resolves once it answers PING. */
async function startRedis(t: Test, args: string[] = []): Promise<DedicatedRedis> {
  const server = await dedicatedRedis(t, args);
  if (typeof server === 'string') throw new Error(server);
  return server;
}

const embedded = BACKENDS.find((b) => b.name === 'embedded') as (typeof BACKENDS)[number];
const skip = redisServerMissing;

t.test('readiness on a replica: 503 read-only; 200 once it is promoted', { skip }, async (t) => {
  const master = await startRedis(t);
  const replica = await startRedis(t, ['--replicaof', '127.0.0.1', String(master.port)]);
  const app = await build(t, embedded, { REDIS_URL: `redis://127.0.0.1:${replica.port}` });
  const ready = async () => {
    const response = await app.publicApp.inject({ method: 'GET', url: '/health/ready' });
    return { status: response.statusCode, body: response.json() };
  };
  // ROLE answers "slave": read-only. (The service's client may also be reconnecting at that moment,
  // which READONLY answers to its writes trigger: then unavailable. Either way, not ready.)
  const direct = new Redis(replica.port, { lazyConnect: true });
  t.teardown(() => direct.disconnect());
  await direct.connect();
  t.equal(await writableMaster(direct), 'read-only', 'a replica is read-only');
  const onReplica = await ready();
  t.equal(onReplica.status, 503, 'readiness 503 on a replica, though it answers PING');
  t.match(onReplica.body, { status: 'unavailable', checks: { database: 'ok', tokenStore: /^(read-only|unavailable)$/ } });
  const admin = await app.adminApp.inject({ method: 'GET', url: '/health/ready' });
  t.equal(admin.statusCode, 503, 'the admin listener says the same');
  // What Sentinel does to the replica it promotes.
  await run('redis-cli', ['-p', String(replica.port), 'replicaof', 'no', 'one']);
  // Ready as soon as the client is connected to it again (it may be reconnecting after a READONLY).
  await waitFor('readiness 200 on the promoted replica', async () => (await ready()).status === 200, 10_000);
  t.same(await ready(), { status: 200, body: { status: 'ok', checks: { database: 'ok', tokenStore: 'ok' } } });
  // A stopped Redis: unavailable, not read-only.
  await replica.stop();
  await waitFor('the token store check to say unavailable', async () => (await ready()).body.checks?.tokenStore === 'unavailable', 10_000);
  t.same(await ready(), { status: 503, body: { status: 'unavailable', checks: { database: 'ok', tokenStore: 'unavailable' } } });
});

t.test('readiness asks both token-store connections where revocations wait for a replica', { skip }, async (t) => {
  const redis = await startRedis(t);
  // A server that waits for a replica: revocations and their WAIT travel on a second connection
  // (docs/redis.md). Without it the instance could introspect but not revoke, so it is not ready.
  const app = await build(t, embedded, { REDIS_URL: redis.url, REDIS_MIN_REPLICAS_ACK: '1' });
  t.not(app.services.durableRedis, app.services.redis, 'two connections');
  const single = await build(t, embedded, { REDIS_URL: redis.url });
  t.equal(single.services.durableRedis, single.services.redis, 'one server that waits for nothing: one connection');
  const ready = () => app.publicApp.inject({ method: 'GET', url: '/health/ready' });
  await waitFor('readiness 200', async () => (await ready()).statusCode === 200, 10_000);
  app.services.durableRedis?.disconnect();
  const response = await ready();
  t.equal(response.statusCode, 503, 'not ready once the durable-write connection is gone');
  t.same(response.json(), { status: 'unavailable', checks: { database: 'ok', tokenStore: 'unavailable' } });
});

t.test('a Redis Cluster: ready while cluster_state is ok and every master answers', { skip }, async (t) => {
  // Each node writes its cluster state file: into a directory removed at teardown.
  const dir = t.testdir();
  const nodes = [];
  for (let i = 0; i < 3; i++) {
    nodes.push(
      // The bus port is port + 10000 unless given: a free one of its own (a free port above 55535 would have none).
      await startRedis(t, [
        '--cluster-enabled',
        'yes',
        '--cluster-port',
        String(await freePort()),
        '--cluster-node-timeout',
        '1000',
        '--dir',
        dir,
        '--cluster-config-file',
        `nodes-${i}.conf`,
      ]),
    );
  }
  const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
  // Before the slots are assigned the cluster serves nothing: cluster_state:fail.
  const early = new Redis(nodes[0]!.port, { lazyConnect: true, commandTimeout: 5000 });
  t.teardown(() => early.disconnect());
  await early.connect();
  t.match(await early.cluster('INFO'), /cluster_state:fail/);
  await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-yes'], { timeout: 60_000 });
  // Every node must have learnt the others' slots (gossip) before a client asks it.
  for (const node of nodes) {
    const client = new Redis(node.port, { lazyConnect: true, commandTimeout: 5000 });
    await client.connect();
    await waitFor(`node ${node.port} to see cluster_state:ok`, async () => (await client.cluster('INFO')).includes('cluster_state:ok'), 15_000);
    client.disconnect();
  }
  const cluster = new Cluster(
    nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
    { redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 1000, commandTimeout: 1000 }, clusterRetryStrategy: () => 200 },
  );
  t.teardown(() => cluster.disconnect());
  cluster.on('error', () => {});
  await new Promise((resolve, reject) => {
    cluster.once('ready', resolve);
    setTimeout(() => reject(new Error('the Cluster client was not ready within 30 s')), 30_000).unref();
  });
  t.equal(await writableMaster(cluster), 'ok', 'three masters, every slot served');
  t.equal(cluster.nodes('master').length, 3);

  // A master gone: its slots are unserved (no replica to promote), so writes to them fail.
  await nodes[2]!.stop();
  const answer = await writableMaster(cluster).catch((err: Error) => `rejected: ${err.message}`);
  t.not(answer, 'ok', `not ready at once with a master down (${answer})`);
  await waitFor('cluster_state:fail', async () => (await early.cluster('INFO')).includes('cluster_state:fail'), 15_000);
  t.not(await writableMaster(cluster).catch((err: Error) => `rejected: ${err.message}`), 'ok', 'nor once the cluster says so');
});
