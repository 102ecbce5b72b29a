// A Redis outage seen from the resource servers (docs/resource-servers.md, docs/security.md "Outages"): this test runs its own
// redis-server on a free port, builds the service against it, then freezes it (SIGSTOP: the
// connection stays open, nothing answers) and kills it. Introspection must answer
// 503 temporarily_unavailable with Retry-After — never {"active":false} — within a bounded time,
// and recover by itself, without a restart, once that Redis is back on the same port.
import t, { type Test } from 'tap';
import { COMMAND_TIMEOUT_MS } from '../../src/redis/connection.js';
import { generateToken } from '../../src/security/secret-box.js';
import { BACKENDS, NO_STORE, build, passwordGrantBody, seedReseller } from '../helper.js';
import { dedicatedRedis, redisServerMissing } from './dedicated-servers.js';

/**
 * The bound on one answer during an outage: a generous multiple of the Redis command timeout, so
 * that it holds on a loaded machine and still tells a bounded answer from a hang (bench/ measures speed).
 */
const ANSWER_BOUND_MS = 4 * COMMAND_TIMEOUT_MS;
const RECOVERY_BOUND_MS = 15_000;
const unavailable = {
  error: 'temporarily_unavailable',
  error_description: 'The token store is temporarily unavailable. Try again shortly.',
  message: 'The token store is temporarily unavailable. Try again shortly.',
};

t.test('introspection during a Redis outage', { skip: redisServerMissing }, async (t) => {
  const redis = await dedicatedRedis(t);
  if (typeof redis === 'string') throw new Error(redis);
  t.teardown(() => redis.thaw());
  // The database does not matter here: the embedded one, so only redis-server is needed.
  const embedded = BACKENDS.find((b) => b.name === 'embedded')!;
  const ctx = await build(t, embedded, { REDIS_URL: redis.url });
  t.equal(ctx.services.redis?.status, 'ready', 'the service uses the test redis-server');
  const reseller = await seedReseller(ctx.services);
  const rsSecret = `rs-${generateToken()}`;
  const rs = await ctx.services.resourceServers.create('DBS API', ctx.services.secretBox.seal(rsSecret));
  await ctx.services.events.publish('resource-servers');
  const authorization = `Basic ${Buffer.from(`${rs.clientId}:${rsSecret}`).toString('base64')}`;

  const issue = async () => {
    const res = await ctx.publicApp.inject({ method: 'POST', url: '/oauth/token', payload: passwordGrantBody(reseller) });
    t.equal(res.statusCode, 200, 'token issued');
    return res.json().access_token as string;
  };
  const introspect = (token: string) =>
    ctx.publicApp.inject({ method: 'POST', url: '/oauth/introspect', headers: { authorization }, payload: { token } });

  /** During the outage: every answer is a 503 with Retry-After, each within the bound. */
  const assertUnavailable = async (t: Test, what: string, token: string) => {
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      const res = await introspect(token);
      const ms = performance.now() - start;
      t.equal(res.statusCode, 503, `${what} #${i + 1}: 503, not active:false`);
      t.same(res.json(), unavailable, `${what} #${i + 1}: whole body`);
      t.match(res.headers, { ...NO_STORE, 'retry-after': '5' }, `${what} #${i + 1}: Retry-After and no-store`);
      t.ok(ms < ANSWER_BOUND_MS, `${what} #${i + 1}: answered in ${ms.toFixed(0)} ms (bound ${ANSWER_BOUND_MS} ms)`);
    }
    const revoke = await ctx.publicApp.inject({
      method: 'POST',
      url: '/oauth/revoke',
      payload: { token, client_id: reseller.clientId, client_secret: reseller.clientSecret },
    });
    t.equal(revoke.statusCode, 503, `${what}: revocation answers 503 too (RFC 7009 §2.2.1)`);
    const verify = await ctx.adminApp.inject({ method: 'GET', url: '/auth/verify', headers: { authorization: `Bearer ${token}` } });
    t.equal(verify.statusCode, 503, `${what}: /auth/verify answers 503 too`);
  };

  /** Waits, bounded, until introspection answers 200 again; returns how long it took. */
  const recovery = async (token: string) => {
    const start = performance.now();
    for (let i = 0; i < 1000 && performance.now() - start < RECOVERY_BOUND_MS; i++) {
      const res = await introspect(token);
      if (res.statusCode === 200) return { ms: performance.now() - start, body: res.json() };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`introspection did not recover within ${RECOVERY_BOUND_MS} ms`);
  };

  const before = await issue();
  t.same((await introspect(before)).json().active, true, 'active while Redis is up');

  t.test('a frozen Redis (SIGSTOP): 503 within the command timeout, then recovery', async (t) => {
    redis.freeze();
    await assertUnavailable(t, 'frozen', before);
    redis.thaw();
    const { ms, body } = await recovery(before);
    t.equal(body.active, true, `recovered in ${ms.toFixed(0)} ms; the token (still in Redis) is active again`);
  });

  t.test('a killed Redis: 503 at once, then recovery when it is back on the same port', async (t) => {
    await redis.stop();
    await assertUnavailable(t, 'stopped', before);
    await redis.start();
    const { ms, body } = await recovery(before);
    // --save '' --appendonly no: the restarted Redis is empty, so the old token is honestly unknown.
    t.same(body, { active: false }, `recovered by itself in ${ms.toFixed(0)} ms; the token died with that Redis's memory`);
    const after = await issue();
    t.equal((await introspect(after)).json().active, true, 'a token issued after the recovery is active');
    t.equal(ctx.services.resourceServerCredentials.size, 1, 'the resource server cache never depended on Redis');
  });
});
