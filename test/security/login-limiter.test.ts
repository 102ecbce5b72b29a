// src/security/login-limiter.ts on its own, in process, on one Redis server and on a Redis
// Cluster: only failures count (parallel correct logins use up nothing) while parallel guesses
// never get past the budget; a success clears every counter but the daily cap; a lock lasts no
// longer than its window however hard it is hammered (refused attempts are not counted); an
// unreachable Redis is a DependencyUnavailableError (503), never "allowed".
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { DependencyUnavailableError } from '../../src/errors.js';
import { createMetrics } from '../../src/metrics.js';
import type { LoginAttempt } from '../../src/oauth/login-guard.js';
import { LoginLimitError, LoginLimiter, addressKey } from '../../src/security/login-limiter.js';
import { freePort, waitFor } from '../faults/dedicated-servers.js';

const WINDOW = 2;
const limits = { maxFailuresUser: 3, maxFailuresUserDaily: 5, maxFailuresClientIp: 2, maxFailuresIp: 100, window: WINDOW };
const silent = pino({ level: 'silent' });
// As the service's client (src/redis/connection.ts): no offline queue, so a lost server fails at once.
const REDIS_OPTIONS = { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2000, lazyConnect: false };

type Store = Redis | Cluster | undefined;

function limiter(redis: Store, override: Partial<typeof limits> = {}) {
  return new LoginLimiter({
    limits: { ...limits, ...override },
    knownAddressTtl: 3600,
    redis,
    keyPrefix: `ll${randomBytes(4).toString('hex')}:`,
    metrics: createMetrics(),
    log: silent,
  });
}

async function refusal(call: Promise<void>): Promise<LoginLimitError | null> {
  try {
    await call;
    return null;
  } catch (err) {
    if (err instanceof LoginLimitError) return err;
    throw err;
  }
}

const attemptAt = (ip: string, username = 'api@revenda.example'): LoginAttempt => ({ username, clientId: '19', ip });

/** One attempt through the guard, with a verification that takes `ms` and then has `outcome`. */
async function login(guard: LoginLimiter, attempt: LoginAttempt, outcome: 'success' | 'failure', ms = 20): Promise<'verified' | LoginLimitError> {
  const refused = await refusal(guard.assertAllowed(attempt));
  if (refused) return refused;
  await sleep(ms);
  await (outcome === 'success' ? guard.recordSuccess(attempt) : guard.recordFailure(attempt));
  return 'verified';
}

async function lockLastsTheWindow(t: Test, guard: LoginLimiter) {
  for (let i = 0; i < limits.maxFailuresClientIp; i++) await login(guard, attemptAt('10.0.0.1'), 'failure', 0);
  const lockedAt = Date.now();
  const first = await refusal(guard.assertAllowed(attemptAt('10.0.0.1')));
  t.equal(first?.limit, 'client_ip', 'locked');
  t.ok(Number(first?.headers['retry-after']) <= WINDOW, `Retry-After ${first?.headers['retry-after']} s is within the window`);
  // Hammer the lock until it lifts: refused attempts must not extend it.
  let refused = 0;
  await waitFor(
    'the lock to lift',
    async () => {
      if ((await login(guard, attemptAt('10.0.0.1'), 'success', 0)) === 'verified') return true;
      refused += 1;
      return false;
    },
    (WINDOW + 2) * 1000,
  );
  const lifted = Date.now() - lockedAt;
  t.ok(refused > 5, `${refused} refused attempts meanwhile`);
  t.ok(lifted <= (WINDOW + 1) * 1000, `the lock lifted after ${lifted} ms (window ${WINDOW} s)`);
}

async function onlyFailuresCount(t: Test, redis: Store) {
  // A window far longer than the test: nothing here may depend on a lock lifting by itself.
  const guard = limiter(redis, { window: 600 });
  const correct = await Promise.all(Array.from({ length: 15 }, () => login(guard, attemptAt('10.0.1.1'), 'success')));
  t.same(correct, Array(15).fill('verified'), '15 parallel correct logins: all verified, none refused');

  const wrong = await Promise.all(Array.from({ length: 30 }, () => login(guard, attemptAt('10.0.2.1'), 'failure')));
  const verified = wrong.filter((r) => r === 'verified').length;
  t.equal(verified, limits.maxFailuresClientIp, `30 parallel wrong guesses: exactly the budget (${limits.maxFailuresClientIp}) verified`);
  t.ok(
    wrong.every((r) => r === 'verified' || r.limit === 'client_ip'),
    'the rest refused by the client+address limit',
  );
}

async function dailyCap(t: Test, redis: Store) {
  const guard = limiter(redis, { window: 600, maxFailuresClientIp: 100 });
  const user = (ip: string) => attemptAt(ip, 'daily@revenda.example');
  t.equal(await login(guard, user('10.0.3.9'), 'success', 0), 'verified', 'the reseller logs in from its address');
  for (let i = 0; i < limits.maxFailuresUser; i++) await login(guard, user('10.0.3.1'), 'failure', 0);
  t.equal((await refusal(guard.assertAllowed(user('10.0.3.2'))))?.limit, 'user', 'the window counter locks the user elsewhere');
  t.equal(await login(guard, user('10.0.3.9'), 'success', 0), 'verified', 'the known address is not locked out');
  t.equal(await login(guard, user('10.0.3.2'), 'failure', 0), 'verified', 'that success cleared the window counter');
  t.equal(await login(guard, user('10.0.3.2'), 'failure', 0), 'verified', `failure ${limits.maxFailuresUserDaily} of the day`);
  const capped = await refusal(guard.assertAllowed(user('10.0.3.3')));
  t.equal(capped?.limit, 'user', `the daily cap (${limits.maxFailuresUserDaily}) refuses although the window counter is at 2`);
  t.ok(Number(capped?.headers['retry-after']) > 600, `Retry-After ${capped?.headers['retry-after']} s: the day, not the window`);
  t.equal(await login(guard, user('10.0.3.9'), 'success', 0), 'verified', 'the known address still logs in');
  t.ok(await refusal(guard.assertAllowed(user('10.0.3.3'))), 'and its success does not clear the daily cap');
}

t.test('an IPv4 caller is its address; an IPv6 caller its /64', async (t) => {
  t.equal(addressKey('10.1.2.3'), '10.1.2.3');
  t.equal(addressKey('::ffff:10.1.2.3'), '10.1.2.3', 'IPv4-mapped IPv6 is IPv4');
  t.equal(addressKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  t.equal(addressKey('2001:db8:1:2::ffff'), addressKey('2001:db8:1:2:aaaa::1'), 'one /64, one counter');
  t.not(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
  t.equal(addressKey('not an address'), 'unparseable');
});

const redisUrl = process.env.TEST_REDIS_URL;
const clusterNodes = process.env.TEST_REDIS_CLUSTER_NODES;
const stores: [string, string | false, () => Promise<Store>][] = [
  ['in process', false, async () => undefined],
  [
    'on Redis',
    !redisUrl && 'TEST_REDIS_URL is not set',
    async () => {
      const redis = new Redis(redisUrl as string, REDIS_OPTIONS);
      await waitFor('Redis', async () => redis.status === 'ready', 5000);
      return redis;
    },
  ],
  [
    'on a Redis Cluster',
    !clusterNodes && 'TEST_REDIS_CLUSTER_NODES is not set',
    async () => {
      const nodes = (clusterNodes as string).split(',').map((n) => ({ host: n.split(':')[0] as string, port: Number(n.split(':')[1]) }));
      const cluster = new Cluster(nodes, { enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 0, commandTimeout: 2000 } });
      await waitFor('the Redis Cluster', async () => cluster.status === 'ready', 10_000);
      return cluster;
    },
  ],
];

for (const [name, skip, connect] of stores) {
  t.test(name, { skip }, async (t) => {
    const redis = await connect();
    t.teardown(() => redis?.disconnect());
    t.test('only failures count, and parallel guesses never overtake the budget', (t) => onlyFailuresCount(t, redis));
    t.test('a success clears the window counter but not the daily cap', (t) => dailyCap(t, redis));
    t.test('no lock outlasts the window', (t) => lockLastsTheWindow(t, limiter(redis)));
  });
}

t.test('Redis unreachable: every operation is a DependencyUnavailableError, never a pass', async (t) => {
  const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, REDIS_OPTIONS);
  redis.on('error', () => {});
  t.teardown(() => redis.disconnect());
  const guard = limiter(redis);
  const attempt = attemptAt('10.0.0.1');
  for (const [what, call] of [
    ['assertAddressAllowed', () => guard.assertAddressAllowed('10.0.0.1', '19')],
    ['assertAllowed', () => guard.assertAllowed(attempt)],
    ['recordSuccess', () => guard.recordSuccess(attempt)],
    ['recordClientFailure', () => guard.recordClientFailure('19', '10.0.0.1')],
    ['recordMalformed', () => guard.recordMalformed('10.0.0.1')],
  ] as const) {
    const started = performance.now();
    const error = await call().then(
      () => null,
      (err: unknown) => err,
    );
    t.ok(error instanceof DependencyUnavailableError && error.dependency === 'token store', `${what} rejects: token store unavailable`);
    t.ok(performance.now() - started < 1000, `${what} fails at once`);
  }
});
