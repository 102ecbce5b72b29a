// PostgreSQL outages (docs/security.md, "Outages"), against a PostgreSQL cluster this test owns (initdb, pg_ctl stop
// -m fast, start): the token endpoint, revocation and the admin API answer 503 with Retry-After at
// once, introspection keeps answering (it needs only the token store and its in-process resource
// server credentials), readiness names the database, liveness stays 200; no token is issued while
// the database is away; everything recovers by itself when PostgreSQL is back.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import t, { type Test } from 'tap';
import { adminInject, type Backend, NO_STORE, type SeededReseller, type TestApp, build, seedReseller } from '../helper.js';
import { dedicatedPostgres, waitFor } from './dedicated-servers.js';
import { type ResourceServer, type TokenPair, assertUnavailable, oauthCalls, registerResourceServer, timed } from './requests.js';

// pg's connectionTimeoutMillis is 3 s and its query timeout the statement timeout + 1 s: a
// refused connection answers at once, a silent server within those. The bounds asserted are a
// generous multiple of those, so that they hold on a loaded machine and still tell an answer from
// a hang (how fast it answers is bench/'s business).
const STATEMENT_TIMEOUT_MS = 1500;
const ANSWER_WITHIN_MS = 3 * 3000;
const IN_PROCESS_TOKEN_STORE: Backend = { name: 'embedded', skip: false };

const SERVICE_UNAVAILABLE = { error: 'service_unavailable', message: 'The database is unavailable. Try again shortly.' };

const postgres = await dedicatedPostgres(t);
if (typeof postgres === 'string') {
  t.test('PostgreSQL outages', { skip: postgres }, async () => {});
} else {
  let ctx: TestApp;
  let reseller: SeededReseller;
  let rs: ResourceServer;
  let calls: ReturnType<typeof oauthCalls>;
  let pair: TokenPair;

  t.before(async () => {
    ctx = await build(t, IN_PROCESS_TOKEN_STORE, { DATABASE_URL: postgres.url, DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) });
    reseller = await seedReseller(ctx.services);
    rs = await registerResourceServer(ctx);
    calls = oauthCalls(ctx.publicApp, reseller, rs);
    pair = (await calls.password()).json() as TokenPair;
  });

  const admin = adminInject(() => ctx);
  const health = (app: FastifyInstance, path: string) => app.inject({ method: 'GET', url: path });

  const assertAdminUnavailable = (t: Test, res: LightMyRequestResponse, label: string) => {
    t.equal(res.statusCode, 503, `${label}: 503`);
    t.same(res.json(), SERVICE_UNAVAILABLE, `${label}: whole body`);
    t.equal(res.headers['retry-after'], '5', `${label}: Retry-After`);
  };

  t.test('PostgreSQL stopped: token, revoke and admin API answer 503 at once; introspection keeps answering', async (t) => {
    t.equal((await admin('GET', `/admin/resellers/${reseller.resellerId}/api`)).statusCode, 200, 'the admin API answers before');
    const issued = async () => (await ctx.services.metrics.tokensIssued.get()).values.reduce((sum, v) => sum + v.value, 0);
    const issuedBefore = await issued();

    await postgres.stop();

    const probes = [
      ['password grant', () => calls.password()],
      ['refresh grant', () => calls.refresh(pair)],
      ['revocation', () => calls.revoke(pair.access_token)],
    ] as const;
    for (const [label, call] of probes) {
      const { result, ms } = await timed(call);
      assertUnavailable(t, result, 'database', label);
      t.ok(ms < ANSWER_WITHIN_MS, `${label}: answered in ${Math.round(ms)} ms`);
    }
    t.equal(await issued(), issuedBefore, 'no token issued while the database is away');
    t.ok(await ctx.services.tokenStore.findAccessToken(pair.access_token), 'the failed revocation left the token alone');
    t.ok(await ctx.services.tokenStore.findRefreshToken(pair.refresh_token), 'the failed refresh did not use the refresh token up');

    const { result: introspected, ms } = await timed(() => calls.introspect(pair.access_token));
    t.equal(introspected.statusCode, 200, 'introspection: 200');
    t.match(introspected.json(), { active: true, client_id: reseller.clientId, username: reseller.email }, 'introspection: still active');
    t.match(introspected.headers, NO_STORE);
    t.ok(ms < ANSWER_WITHIN_MS, `introspection answered in ${Math.round(ms)} ms`);

    const adminProbes = [
      ['GET reseller API access', () => admin('GET', `/admin/resellers/${reseller.resellerId}/api`)],
      ['GET reseller list', () => admin('GET', '/admin/resellers')],
      [
        'PUT reseller API access',
        () =>
          admin('PUT', '/admin/resellers/outage/api', {
            name: 'Revenda',
            email: 'outage@revenda.example',
            password: 'senha-forte-123',
            allowedIp: '10.0.0.1',
          }),
      ],
    ] as const;
    for (const [label, call] of adminProbes) {
      const { result, ms } = await timed(call);
      assertAdminUnavailable(t, result, label);
      t.ok(ms < ANSWER_WITHIN_MS, `${label}: answered in ${Math.round(ms)} ms`);
    }

    for (const app of [ctx.publicApp, ctx.adminApp]) {
      const ready = await health(app, '/health/ready');
      t.equal(ready.statusCode, 503, 'readiness 503');
      t.same(ready.json(), { status: 'unavailable', checks: { database: 'unavailable', tokenStore: 'ok' } }, 'readiness names the database');
      t.equal((await health(app, '/health/live')).statusCode, 200, 'liveness 200');
    }
  });

  t.test('PostgreSQL back: everything recovers by itself, without a restart', async (t) => {
    await postgres.start();
    await waitFor('a token to be issued again', async () => (await calls.password()).statusCode === 200);
    const refreshed = await calls.refresh(pair);
    t.equal(refreshed.statusCode, 200, 'the refresh token that survived the outage still works');
    t.equal((await calls.revoke((refreshed.json() as TokenPair).access_token)).statusCode, 200, 'revocation answers');
    const access = await admin('GET', `/admin/resellers/${reseller.resellerId}/api`);
    t.equal(access.statusCode, 200, 'the admin API answers');
    t.match(access.json(), { resellerId: reseller.resellerId, clientId: reseller.clientId, clientSecret: reseller.clientSecret, active: true });
    const created = await admin('PUT', '/admin/resellers/outage/api', {
      name: 'Revenda',
      email: 'outage@revenda.example',
      password: 'senha-forte-123',
      allowedIp: '10.0.0.1',
    });
    t.equal(created.statusCode, 201, 'the PUT refused during the outage now creates the access');
    for (const app of [ctx.publicApp, ctx.adminApp]) {
      const ready = await health(app, '/health/ready');
      t.equal(ready.statusCode, 200);
      t.same(ready.json(), { status: 'ok', checks: { database: 'ok', tokenStore: 'ok' } });
    }
  });

  t.test('PostgreSQL hung (its processes stopped, connections open): bounded 503s, introspection answers, recovery', async (t) => {
    await postgres.freeze();
    try {
      for (const [label, call] of [
        ['password grant', () => calls.password()],
        ['revocation', () => calls.revoke(pair.access_token)],
      ] as const) {
        const { result, ms } = await timed(call);
        assertUnavailable(t, result, 'database', label);
        t.ok(ms < ANSWER_WITHIN_MS, `${label}: answered in ${Math.round(ms)} ms`);
      }
      const { result, ms } = await timed(() => admin('GET', `/admin/resellers/${reseller.resellerId}/api`));
      assertAdminUnavailable(t, result, 'GET reseller API access');
      t.ok(ms < ANSWER_WITHIN_MS, `admin API answered in ${Math.round(ms)} ms`);
      const introspected = await timed(() => calls.introspect(pair.access_token));
      t.equal(introspected.result.statusCode, 200, `introspection answers (${Math.round(introspected.ms)} ms)`);
      const ready = await timed(() => health(ctx.publicApp, '/health/ready'));
      t.equal(ready.result.statusCode, 503, `readiness 503 (${Math.round(ready.ms)} ms)`);
    } finally {
      await postgres.thaw();
    }
    await waitFor('a token to be issued again', async () => (await calls.password()).statusCode === 200);
    t.equal((await admin('GET', `/admin/resellers/${reseller.resellerId}/api`)).statusCode, 200, 'the admin API answers again');
  });

  t.test('a statement held up past DATABASE_STATEMENT_TIMEOUT_MS (a lock) → 503, not a hang or a 500', async (t) => {
    const locker = new pg.Client({ connectionString: postgres.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE clients IN ACCESS EXCLUSIVE MODE');
      const { result, ms } = await timed(() => calls.password());
      assertUnavailable(t, result, 'database', 'password grant');
      t.ok(ms < 5 * STATEMENT_TIMEOUT_MS, `answered in ${Math.round(ms)} ms`);
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    t.equal((await calls.password()).statusCode, 200, 'answers at once when the lock is gone');
  });
}
