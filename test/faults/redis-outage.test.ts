// Redis outages (docs/security.md, "Outages"), against a redis-server this test owns: killed (a crash) and frozen with
// SIGSTOP (a hung host that keeps its connections). Token, revoke and introspect answer 503
// temporarily_unavailable with Retry-After within the command timeout, readiness is 503 and names
// the token store, liveness stays 200; everything recovers by itself; and no token a client was
// given is missing from the store afterwards. (Introspection's own outage suite is
// redis-outage-introspection.test.ts.)
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { COMMAND_TIMEOUT_MS } from '../../src/redis/connection.js';
import { type Backend, type SeededReseller, type TestApp, TOKEN_STORE_UNAVAILABLE, build, seedReseller } from '../helper.js';
import { dedicatedRedis, waitFor } from './dedicated-servers.js';
import { type ResourceServer, type TokenPair, assertUnavailable, oauthCalls, registerResourceServer, storm, timed } from './requests.js';

// Redis commands time out after COMMAND_TIMEOUT_MS (createRedisClient); a request may wait for
// one or two of them and queue for a hashing thread. A generous multiple, so that it holds on a
// loaded 2-core machine (the slowest answer of a storm has been seen at 3.4 times the timeout);
// a command left without its timeout is caught by the body of the 503 (the storm below), not by
// the clock.
const ANSWER_WITHIN_MS = 5 * COMMAND_TIMEOUT_MS;
const EMBEDDED_DATABASE: Backend = { name: 'embedded', skip: false };

const redis = await dedicatedRedis(t);
if (typeof redis === 'string') {
  t.test('Redis outages', { skip: redis }, async () => {});
} else {
  let ctx: TestApp;
  let reseller: SeededReseller;
  let rs: ResourceServer;
  let calls: ReturnType<typeof oauthCalls>;

  t.before(async () => {
    // The failed-login limits are not under test here: a storm must not trip them.
    ctx = await build(t, EMBEDDED_DATABASE, {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'fault:',
      LOGIN_MAX_FAILURES_USER: '100000',
      LOGIN_MAX_FAILURES_CLIENT_IP: '100000',
      LOGIN_MAX_FAILURES_IP: '100000',
    });
    reseller = await seedReseller(ctx.services);
    rs = await registerResourceServer(ctx);
    calls = oauthCalls(ctx.publicApp, reseller, rs);
  });

  const health = async (app: FastifyInstance, path: string) => app.inject({ method: 'GET', url: path });

  t.test('Redis killed: 503 temporarily_unavailable with Retry-After at once, readiness 503, liveness 200', async (t) => {
    const pair = (await calls.password()).json() as TokenPair;
    t.ok(pair.access_token, 'a token before the outage');
    const metric = async () =>
      (await ctx.services.metrics.dependencyErrors.get()).values.find((v) => v.labels.dependency === 'token store')?.value ?? 0;
    const errorsBefore = await metric();

    await redis.stop();
    await waitFor('the client to notice', async () => ctx.services.redis?.status !== 'ready');

    const probes = [
      ['password grant', () => calls.password()],
      ['refresh grant', () => calls.refresh(pair)],
      ['revocation', () => calls.revoke(pair.access_token)],
      ['introspection', () => calls.introspect(pair.access_token)],
    ] as const;
    for (const [label, call] of probes) {
      const { result, ms } = await timed(call);
      assertUnavailable(t, result, 'token store', label);
      t.ok(ms < ANSWER_WITHIN_MS, `${label}: answered in ${Math.round(ms)} ms`);
    }
    t.ok((await metric()) >= errorsBefore + probes.length - 1, 'counted in reseller_auth_dependency_errors_total{dependency="token store"}');

    for (const app of [ctx.publicApp, ctx.adminApp]) {
      const ready = await health(app, '/health/ready');
      t.equal(ready.statusCode, 503, 'readiness 503');
      t.same(ready.json(), { status: 'unavailable', checks: { database: 'ok', tokenStore: 'unavailable' } }, 'readiness names the token store');
      const live = await health(app, '/health/live');
      t.equal(live.statusCode, 200, 'liveness 200');
      t.same(live.json(), { status: 'ok' });
    }
  });

  t.test('Redis back: every surface recovers by itself, without a restart', async (t) => {
    await redis.start();
    await waitFor('a token to be issued again', async () => (await calls.password()).statusCode === 200);
    const pair = (await calls.password()).json() as TokenPair;
    const introspected = await calls.introspect(pair.access_token);
    t.equal(introspected.statusCode, 200);
    t.match(introspected.json(), { active: true, client_id: reseller.clientId, username: reseller.email }, 'introspection answers');
    const refreshed = await calls.refresh(pair);
    t.equal(refreshed.statusCode, 200, 'refresh answers');
    const revoked = await calls.revoke((refreshed.json() as TokenPair).refresh_token);
    t.equal(revoked.statusCode, 200, 'revocation answers');
    for (const app of [ctx.publicApp, ctx.adminApp]) {
      const ready = await health(app, '/health/ready');
      t.equal(ready.statusCode, 200, 'ready again');
      t.same(ready.json(), { status: 'ok', checks: { database: 'ok', tokenStore: 'ok' } });
    }
  });

  t.test('Redis hung mid-storm: every answer within the command timeout, and every token handed out is stored', async (t) => {
    let ok = 0;
    let unavailable = 0;
    let slowest = 0;
    const unavailableBodies = new Set<string>();
    const request = async () => {
      const { result, ms } = await timed(() => calls.password());
      slowest = Math.max(slowest, ms);
      if (result.statusCode === 200) ok += 1;
      if (result.statusCode === 503) {
        unavailable += 1;
        unavailableBodies.add(result.body);
      }
      return result;
    };
    const control = (async () => {
      await waitFor('tokens issued before the freeze', async () => ok >= 5);
      redis.freeze();
      try {
        await waitFor('503s while Redis is frozen', async () => unavailable >= 6);
      } finally {
        redis.thaw();
      }
      const okAtThaw = ok;
      await waitFor('tokens issued after the thaw', async () => ok >= okAtThaw + 5);
    })();
    const result = await storm(request, 4, 2000, control);
    await control;

    t.same([...result.statuses.keys()].sort(), [200, 503], `only 200 and 503 (${JSON.stringify([...result.statuses])})`);
    // The token store's 503, never the one the token endpoint gives a request still unanswered
    // after HANDLER_TIMEOUT_MS (routes/oauth/token.ts): that would be a Redis call without its timeout.
    t.same(
      [...unavailableBodies].map((body) => JSON.parse(body)),
      [TOKEN_STORE_UNAVAILABLE],
      'each 503 says the token store timed out',
    );
    t.ok(slowest < ANSWER_WITHIN_MS, `the slowest answer took ${Math.round(slowest)} ms`);
    const missing: string[] = [];
    for (const pair of result.issued) {
      if (!(await ctx.services.tokenStore.findAccessToken(pair.access_token))) missing.push('access');
      if (!(await ctx.services.tokenStore.findRefreshToken(pair.refresh_token))) missing.push('refresh');
    }
    t.same(missing, [], `all ${result.issued.length} token pairs handed out are in the store`);
  });
}
