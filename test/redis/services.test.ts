// createServices on each Redis mode, configured as an operator would (REDIS_URL, REDIS_SENTINELS
// + REDIS_SENTINEL_NAME, REDIS_CLUSTER_NODES): one client of the right kind, shared by the token
// store and the change events, and closed with the services. The database is the embedded one.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createRedisEvents } from '../../src/events.js';
import { type RedisConnection, createRedisClient } from '../../src/redis/connection.js';
import { createServices } from '../../src/services.js';
import { TEST_ADMIN_TOKEN } from '../helper.js';
import { REDIS_MODES, deleteKeys, lockRedisServers, uniquePrefix, waitUntil } from '../redis-modes.js';

t.test('createServices on each Redis mode', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'reseller-auth-redis-services-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  // One server is what every other suite runs on: here, the modes it does not cover.
  for (const mode of REDIS_MODES.filter((m) => m.mode !== 'standalone')) {
    t.test(mode.mode, { skip: mode.skip }, async (t) => {
      // No failover test may run on the shared servers meanwhile (test/redis/failover.test.ts).
      await lockRedisServers(t);
      const prefix = uniquePrefix();
      const config = loadConfig({
        NODE_ENV: 'test',
        DATA_DIR: dataDir,
        SECRET_KEY: randomBytes(32).toString('base64'),
        ADMIN_TOKENS: TEST_ADMIN_TOKEN,
        REDIS_KEY_PREFIX: prefix,
        ...mode.env,
      });
      t.equal(config.redis?.mode, mode.mode, 'the mode is read from its variables');
      const services = await createServices(config, createLogger('silent'));
      let closed = false;
      t.teardown(async () => {
        if (!closed) await services.close();
      });
      const redis = services.redis;
      if (!redis) throw new Error('no Redis client');
      t.equal(redis instanceof Cluster, mode.mode === 'cluster', 'a Cluster client for the cluster only');
      t.equal(redis.status, 'ready');
      await t.resolves(services.tokenStore.ping(), 'the token store answers');
      // Another instance's publish reaches this one's listeners through Redis.
      const other = createRedisClient(mode.connection as RedisConnection);
      const publisher = createRedisEvents(other, prefix);
      t.teardown(async () => {
        await publisher.close();
        other.disconnect();
      });
      let seen = 0;
      services.events.subscribe('clients', () => seen++);
      await waitUntil(
        async () => {
          await publisher.publish('clients');
          await new Promise((r) => setTimeout(r, 100));
          return seen > 0;
        },
        10_000,
        'a change event from another instance',
      );
      t.pass('change events travel through the same Redis');
      await deleteKeys(redis, prefix);
      await services.close();
      closed = true;
      t.equal(redis.status, 'end', 'closed with the services');
    });
  }
});
