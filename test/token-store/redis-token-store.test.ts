import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import t from 'tap';
import { createRedisClient, waitUntilReady } from '../../src/redis/connection.js';
import { RedisTokenStore } from '../../src/token-store/redis-token-store.js';
import { generateToken } from '../../src/security/secret-box.js';
import { pair, save, tokenStoreContract } from './token-store-contract.js';

const url = process.env.TEST_REDIS_URL;
if (!url) {
  t.test('Redis token store', { skip: 'TEST_REDIS_URL is not set: Redis token store suite skipped' }, async () => {});
} else {
  const prefix = `tc${randomBytes(4).toString('hex')}:`;
  tokenStoreContract(t, async () => {
    const redis = createRedisClient(url);
    await waitUntilReady(redis, 5000);
    return new RedisTokenStore(redis, { keyPrefix: prefix });
  });

  t.test('a Redis dump holds no raw token: keys are SHA-256 hashes, values carry no token', async (t) => {
    const redis = createRedisClient(url);
    await waitUntilReady(redis, 5000);
    const store = new RedisTokenStore(redis, { keyPrefix: `${prefix}dump:` });
    const p = pair();
    await save(store, p);
    const raw = new Redis(url);
    const keys = await raw.keys(`${prefix}dump:*`);
    t.ok(keys.length >= 4);
    const dump = [...keys, ...(await Promise.all(keys.map((k) => raw.dumpBuffer(k).then((v) => v?.toString('latin1') ?? ''))))].join('\n');
    t.notOk(dump.includes(p.access.token), 'no access token');
    t.notOk(dump.includes(p.refresh!.token), 'no refresh token');
    const ttl = await raw.pttl(keys.find((k) => k.includes(':at:')) as string);
    t.ok(ttl > 3_500_000 && ttl <= 3_600_000, `access token TTL is its expiry (${ttl} ms)`);
    await raw.quit();
    await store.close();
    t.equal(generateToken().length, 43, '256-bit tokens');
  });
}
