// The Redis token store passes the contract on every Redis mode the service supports (one server,
// a master under Sentinel, a Cluster: docs/redis.md), with the durability check on.
import { Cluster, type Redis } from 'ioredis';
import t from 'tap';
import { createRedisClient, waitUntilReady } from '../../src/redis/connection.js';
import { confirmDurable } from '../../src/redis/durability.js';
import { RedisTokenStore } from '../../src/token-store/redis-token-store.js';
import { REDIS_MODES, connectRedis, lockRedisServers } from '../redis-modes.js';
import { pair, save, tokenStoreContract } from './token-store-contract.js';

for (const mode of REDIS_MODES) {
  t.test(`Redis token store, ${mode.mode}`, { skip: mode.skip }, async (t) => {
    // No failover test may run on the shared Sentinel and Cluster servers meanwhile.
    if (mode.mode !== 'standalone') await lockRedisServers(t);
    // connectRedis's client deletes the test's keys at the end; each store has a client of its own.
    const { redis, prefix, connection } = await connectRedis(t, mode);
    const open = async () => {
      const client = createRedisClient(connection);
      const durableClient = createRedisClient(connection);
      await Promise.all([waitUntilReady(client, 10_000), waitUntilReady(durableClient, 10_000)]);
      return new RedisTokenStore(client, { keyPrefix: prefix, durableClient, confirmDurable: (c, keys) => confirmDurable(c, keys, 1000) });
    };
    tokenStoreContract(t, open);
    const store = await open();
    t.teardown(() => store.close());

    t.test('a Redis dump holds no raw token: keys are SHA-256 hashes, values carry no token', async (t) => {
      const p = pair();
      await save(store, p);
      const servers: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis as Redis];
      const keys: [Redis, string][] = [];
      for (const server of servers) for (const key of await server.keys(`${prefix}*`)) keys.push([server, key]);
      t.ok(keys.length >= 4);
      const values = await Promise.all(keys.map(([server, key]) => server.dumpBuffer(key).then((v) => v?.toString('latin1') ?? '')));
      const dump = [...keys.map(([, key]) => key), ...values].join('\n');
      const secretPart = (token: string) => token.split('.')[1] as string;
      t.notOk(dump.includes(secretPart(p.access.token)), 'no access token');
      t.notOk(dump.includes(secretPart(p.refresh!.token)), 'no refresh token');
      const [server, atKey] = keys.find(([, k]) => k.includes(':at:')) as [Redis, string];
      const ttl = await server.pttl(atKey);
      t.ok(ttl > 3_500_000 && ttl <= 3_600_000, `access token TTL is its expiry (${ttl} ms)`);
    });

    if (redis instanceof Cluster) {
      t.test('on a Cluster, families spread over every master; each family stays in one slot', async (t) => {
        for (let i = 0; i < 60; i++) await save(store, pair());
        const perMaster = await Promise.all(redis.nodes('master').map(async (node) => (await node.keys(`${prefix}*:at:*`)).length));
        t.ok(
          perMaster.every((n) => n > 0),
          `access tokens on every master: ${perMaster.join(', ')}`,
        );
      });
    }
  });
}
