// src/security/login-limiter.ts on its own, in process and on Redis: a lock lasts no longer than
// LOGIN_WINDOW however hard it is hammered (refused attempts are not counted), and an unreachable
// Redis is a DependencyUnavailableError (503), never "allowed".
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { DependencyUnavailableError } from '../../src/errors.js';
import { createMetrics } from '../../src/metrics.js';
import type { LoginAttempt } from '../../src/oauth/login-guard.js';
import { LoginLimitError, LoginLimiter, addressKey } from '../../src/security/login-limiter.js';
import { createRedisClient, waitUntilReady } from '../../src/token-store/redis-token-store.js';
import { freePort, waitFor } from '../faults/dedicated-servers.js';

const WINDOW = 2;
const limits = { maxFailuresUser: 3, maxFailuresClientIp: 2, maxFailuresIp: 100, window: WINDOW };
const silent = pino({ level: 'silent' });

function limiter(redis?: ReturnType<typeof createRedisClient>) {
  return new LoginLimiter({
    limits,
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

async function lockLastsTheWindow(t: Test, guard: LoginLimiter) {
  const attempt = (): LoginAttempt => ({ username: 'api@revenda.example', clientId: '19', ip: '10.0.0.1' });
  for (let i = 0; i < limits.maxFailuresClientIp; i++) {
    const a = attempt();
    await guard.assertAllowed(a);
    await guard.recordFailure(a);
  }
  const lockedAt = Date.now();
  const first = await refusal(guard.assertAllowed(attempt()));
  t.equal(first?.limit, 'client_ip', 'locked');
  t.ok(Number(first?.headers['retry-after']) <= WINDOW, `Retry-After ${first?.headers['retry-after']} s is within the window`);
  // Hammer the lock until it lifts: refused attempts must not extend it.
  let refused = 0;
  await waitFor(
    'the lock to lift',
    async () => {
      const a = attempt();
      if (await refusal(guard.assertAllowed(a))) {
        refused += 1;
        return false;
      }
      await guard.recordSuccess(a);
      return true;
    },
    (WINDOW + 2) * 1000,
  );
  const lifted = Date.now() - lockedAt;
  t.ok(refused > 5, `${refused} refused attempts meanwhile`);
  t.ok(lifted <= (WINDOW + 1) * 1000, `the lock lifted after ${lifted} ms (window ${WINDOW} s)`);
}

t.test('an IPv4 caller is its address; an IPv6 caller its /64', async (t) => {
  t.equal(addressKey('10.1.2.3'), '10.1.2.3');
  t.equal(addressKey('::ffff:10.1.2.3'), '10.1.2.3', 'IPv4-mapped IPv6 is IPv4');
  t.equal(addressKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  t.equal(addressKey('2001:db8:1:2::ffff'), addressKey('2001:db8:1:2:aaaa::1'), 'one /64, one counter');
  t.not(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
  t.equal(addressKey('not an address'), 'unparseable');
});

t.test('in process: no lock outlasts the window', async (t) => lockLastsTheWindow(t, limiter()));

const redisUrl = process.env.TEST_REDIS_URL;
t.test('on Redis: no lock outlasts the window', { skip: !redisUrl && 'TEST_REDIS_URL is not set' }, async (t) => {
  const redis = createRedisClient(redisUrl as string);
  t.teardown(() => redis.quit());
  t.ok(await waitUntilReady(redis, 5000));
  await lockLastsTheWindow(t, limiter(redis));
});

t.test('Redis unreachable: every operation is a DependencyUnavailableError, never a pass', async (t) => {
  const redis = createRedisClient(`redis://127.0.0.1:${await freePort()}`);
  t.teardown(() => redis.disconnect());
  const guard = limiter(redis);
  const attempt = { username: 'api@revenda.example', clientId: '19', ip: '10.0.0.1' };
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
