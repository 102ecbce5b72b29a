// Hostile input (docs/input-validation.md: a 4xx, never a 500): a property-based storm of random and malformed requests — bodies,
// content types, headers, query strings, path parameters, methods — against EVERY route both
// listeners registered (collected as they register, so routes added later are covered too).
// Properties: no 5xx, every answer within a bound, every error body in the documented shape
// (Passport's on /oauth/*, {error, message, fields?} elsewhere); and the resellers, users,
// secrets and tokens that existed before the storm are intact afterwards.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse, RouteOptions } from 'fastify';
import t from 'tap';
import { generateToken } from '../../src/security/secret-box.js';
import { adminInject, type Backend, NO_STORE, type SeededReseller, type TestApp, build, eachBackend, seedReseller } from '../helper.js';
import { type ResourceServer, basic, oauthCalls, registerResourceServer } from '../faults/requests.js';
import { type Interesting, requestArbitrary } from './requests.js';

const RUNS_PER_BACKEND = 1500;
const ANSWER_WITHIN_MS = 5000;

interface CollectedRoute {
  listener: 'public' | 'admin';
  method: string;
  url: string;
}

/** Builds the service while listening to Fastify's instance creation, and records every route. */
async function buildCollectingRoutes(t: Parameters<typeof build>[0], backend: Backend, env: Record<string, string>) {
  const byInstance = new Map<FastifyInstance, RouteOptions[]>();
  const onInit = (message: unknown) => {
    const { fastify } = message as { fastify: FastifyInstance };
    const routes: RouteOptions[] = [];
    byInstance.set(fastify, routes);
    fastify.addHook('onRoute', (route) => {
      routes.push(route);
    });
  };
  // Fastify publishes every new instance here before any plugin registers (its diagnostics channel).
  subscribe('fastify.initialization', onInit);
  let ctx: TestApp;
  try {
    ctx = await build(t, backend, env);
  } finally {
    unsubscribe('fastify.initialization', onInit);
  }
  const routes: CollectedRoute[] = [];
  for (const [listener, app] of [
    ['public', ctx.publicApp],
    ['admin', ctx.adminApp],
  ] as const) {
    for (const route of byInstance.get(app) ?? []) {
      for (const method of [route.method].flat()) routes.push({ listener, method: String(method), url: route.url });
    }
  }
  return { ctx, routes };
}

const OAUTH_ERROR_KEYS = ['error', 'error_description', 'hint', 'message'];
const APP_ERROR_KEYS = ['error', 'fields', 'message'];

/**
 * Returns what is wrong with an error answer, or null: the shapes docs/resellers.md and docs/admin-api.md document —
 * Passport's for a request to an /oauth/* endpoint, {error, message, fields?} for everything
 * else (including requests no route takes, answered by the not-found machinery).
 */
function shapeProblem(oauth: boolean, res: LightMyRequestResponse): string | null {
  let body: Record<string, unknown>;
  try {
    body = res.json();
  } catch {
    return `not JSON: ${res.body.slice(0, 200)}`;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'not a JSON object';
  const allowed = oauth ? OAUTH_ERROR_KEYS : APP_ERROR_KEYS;
  const extra = Object.keys(body).filter((key) => !allowed.includes(key));
  if (extra.length > 0) return `unexpected members ${extra.join(', ')}`;
  if (typeof body.error !== 'string' || typeof body.message !== 'string') return 'error and message must be strings';
  if (oauth) {
    if (body.error_description !== body.message) return 'message must repeat error_description';
    if (body.hint !== undefined && typeof body.hint !== 'string') return 'hint must be a string';
    if (res.headers['cache-control'] !== NO_STORE['cache-control'] || res.headers.pragma !== NO_STORE.pragma) return 'no-store headers missing';
  } else if (body.fields !== undefined) {
    const fields = body.fields as Record<string, unknown>;
    if (typeof fields !== 'object' || fields === null || Object.values(fields).some((v) => typeof v !== 'string'))
      return 'fields must map names to strings';
  }
  return null;
}

function withinBound<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ANSWER_WITHIN_MS} ms`)), ANSWER_WITHIN_MS);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

interface Victim {
  reseller: SeededReseller;
  pairs: { access_token: string; refresh_token: string }[];
}

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let routes: CollectedRoute[];
  const victims: Victim[] = [];
  let rs: ResourceServer;
  let interesting: Interesting;

  const admin = adminInject(() => ctx);

  /** Everything the storm must leave alone, as the service itself reports it. */
  const snapshot = async () => ({
    access: await Promise.all(victims.map(async ({ reseller }) => (await admin('GET', `/admin/resellers/${reseller.resellerId}/api`)).json())),
    users: await Promise.all(victims.map(async ({ reseller }) => ctx.services.users.findByEmail(reseller.email))),
    tokens: await Promise.all(
      victims.flatMap(({ pairs }) =>
        pairs.flatMap((pair) => [
          ctx.services.tokenStore.findAccessToken(pair.access_token),
          ctx.services.tokenStore.findRefreshToken(pair.refresh_token),
        ]),
      ),
    ),
    // The storm may register resource servers of its own; the one the victims rely on must stay.
    resourceServer: ((await admin('GET', '/admin/resource-servers')).json() as { items: { clientId: string }[] }).items.find(
      (item) => String(item.clientId) === rs.clientId,
    ),
  });

  t.before(async () => {
    // The failed-login limits are exercised elsewhere; here they must not turn the storm into 429s.
    ({ ctx, routes } = await buildCollectingRoutes(t, backend, {
      LOGIN_MAX_FAILURES_USER: '1000000',
      LOGIN_MAX_FAILURES_CLIENT_IP: '1000000',
      LOGIN_MAX_FAILURES_IP: '1000000',
    }));
    rs = await registerResourceServer(ctx);
    for (let i = 0; i < 2; i++) {
      const reseller = await seedReseller(ctx.services, { resellerId: `victim-${i}` });
      const calls = oauthCalls(ctx.publicApp, reseller, rs);
      const pairs = [];
      for (let j = 0; j < 2; j++) pairs.push((await calls.password()).json());
      victims.push({ reseller, pairs });
    }
    // A reseller the storm may change at will (its id and credentials are among the generated values).
    const sacrificial = await seedReseller(ctx.services, { resellerId: 'sacrificial', allowedIp: '0.0.0.0/0,::/0' });
    const sacrificialRs = await ctx.services.resourceServers.create('storm', ctx.services.secretBox.seal(`rs-${generateToken()}`));
    const issued = (await oauthCalls(ctx.publicApp, sacrificial, rs).password()).json();
    interesting = {
      resellerIds: [sacrificial.resellerId],
      resourceServerIds: [sacrificialRs.id],
      clientIds: [sacrificial.clientId, String(rs.clientId)],
      secrets: [sacrificial.clientSecret, rs.secret],
      usernames: [sacrificial.email],
      passwords: [sacrificial.password],
      tokens: [issued.access_token, issued.refresh_token],
      authorizations: [
        `Bearer ${ctx.adminToken}`,
        basic(sacrificial.clientId, sacrificial.clientSecret),
        basic(rs.clientId, rs.secret),
        `Bearer ${issued.access_token}`,
      ],
    };
  });

  t.test('the storm reaches every registered route of both listeners', async (t) => {
    const paths = new Set(routes.map((r) => `${r.listener} ${r.url}`));
    for (const expected of [
      'public /oauth/token',
      'public /oauth/revoke',
      'public /oauth/introspect',
      'public /health/live',
      'admin /health/ready',
    ]) {
      t.ok(paths.has(expected), `${expected} was collected`);
    }
    t.ok(
      routes.some((r) => r.listener === 'admin' && r.url.startsWith('/admin/')),
      'the admin API was collected',
    );
    t.ok(routes.length >= 15, `${routes.length} method/route pairs collected`);
  });

  t.test('random and malformed requests: no 5xx, no hang, every error in the documented shape; prior state intact', async (t) => {
    const before = await snapshot();
    t.ok(before.resourceServer, "the victims' resource server is listed");
    const seen = new Map<string, number>();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        requestArbitrary(routes, () => interesting),
        async (request) => {
          const app = request.listener === 'public' ? ctx.publicApp : ctx.adminApp;
          const label = `${request.listener} ${request.method} ${request.url}`;
          const res = await withinBound(
            app.inject({
              method: request.method,
              url: request.url,
              headers: request.headers,
              payload: request.payload,
              remoteAddress: request.remoteAddress,
            }),
            label,
          );
          seen.set(request.route, (seen.get(request.route) ?? 0) + 1);
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode >= 500) throw new Error(`${label} → ${res.statusCode} ${res.body.slice(0, 300)}`);
          if (res.statusCode >= 400 && request.method !== 'HEAD') {
            const path = new URL(request.url, 'http://x').pathname;
            const oauth = routes.some(
              (r) => r.listener === request.listener && r.method === request.method && r.url === path && path.startsWith('/oauth/'),
            );
            const problem = shapeProblem(oauth, res);
            if (problem) throw new Error(`${label} → ${res.statusCode}: ${problem}: ${res.body.slice(0, 300)}`);
          }
        },
      ),
      { numRuns: RUNS_PER_BACKEND, endOnFailure: true },
    );
    t.pass(`${RUNS_PER_BACKEND} requests answered in shape`);
    t.comment(`statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    const unreached = [...new Set(routes.map((r) => `${r.listener} ${r.method} ${r.url}`))].filter((r) => !seen.has(r));
    t.same(unreached, [], 'every collected route received requests');

    t.same(await snapshot(), before, 'resellers, users, their resource server and tokens are exactly as before');
    for (const { reseller, pairs } of victims) {
      const calls = oauthCalls(ctx.publicApp, reseller, rs);
      t.equal((await calls.password()).statusCode, 200, `${reseller.resellerId} still logs in`);
      const [first] = pairs;
      if (!first) continue;
      t.equal((await calls.introspect(first.access_token)).json().active, true, `${reseller.resellerId}'s access token is still active`);
      t.equal((await calls.refresh(first)).statusCode, 200, `${reseller.resellerId}'s refresh token still works`);
    }
  });
});
