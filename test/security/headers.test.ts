// Security headers on the public port (docs/security.md, "Headers"): helmet's headers on every answer (success,
// error, 404, documentation), no X-Powered-By on either port, and CORS closed unless CORS_ORIGINS
// lists the origin. HTTP-level behaviour, independent of the storage backend: embedded only.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import t, { type Test } from 'tap';
import { BACKENDS, type SeededReseller, type TestApp, build, passwordGrantBody, seedReseller } from '../helper.js';

const EMBEDDED = BACKENDS[0] ?? { name: 'embedded', skip: false };
const PANEL = 'https://painel.dbs.example';

// The directives of the Content-Security-Policy that keep the public port's pages (the Swagger
// UI) from loading or framing anything foreign; src/plugins/external/helmet.ts may add others.
const CSP = ["base-uri 'self'", "default-src 'self'", "frame-ancestors 'self'", "object-src 'none'", "script-src 'self'", "script-src-attr 'none'"];

// helmet 8's defaults.
const HELMET = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

function assertHelmet(t: Test, res: LightMyRequestResponse, what: string) {
  t.match(res.headers, HELMET, `${what}: helmet headers`);
  const csp = String(res.headers['content-security-policy'] ?? '');
  const directives = csp.split(';').map((d) => d.trim());
  t.same(
    CSP.filter((d) => !directives.includes(d)),
    [],
    `${what}: Content-Security-Policy`,
  );
  t.notOk('x-powered-by' in res.headers, `${what}: no X-Powered-By`);
}

let closed: TestApp;
let open: TestApp;
let reseller: SeededReseller;

t.before(async () => {
  closed = await build(t, EMBEDDED);
  open = await build(t, EMBEDDED, { CORS_ORIGINS: `${PANEL} https://outro.dbs.example` });
  reseller = await seedReseller(closed.services);
});

t.test('helmet headers on every answer of the public port; no X-Powered-By on either port', async (t) => {
  const app = closed.publicApp;
  assertHelmet(t, await app.inject({ method: 'POST', url: '/oauth/token', payload: passwordGrantBody(reseller) }), 'token 200');
  assertHelmet(t, await app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'password' } }), 'token 400');
  assertHelmet(t, await app.inject({ method: 'GET', url: '/nowhere' }), '404');
  assertHelmet(t, await app.inject({ method: 'GET', url: '/health/live' }), 'liveness');
  const docs = await app.inject({ method: 'GET', url: `${closed.config.docsPath}/json` });
  t.equal(docs.statusCode, 200);
  assertHelmet(t, docs, 'OpenAPI document');
  for (const url of ['/health/live', '/metrics', '/admin/resellers']) {
    const res = await closed.adminApp.inject({ method: 'GET', url });
    t.notOk('x-powered-by' in res.headers, `admin ${url}: no X-Powered-By`);
  }
});

const withOrigin = (app: FastifyInstance, origin: string) =>
  app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'password' }, headers: { origin } });
const preflight = (app: FastifyInstance, origin: string) =>
  app.inject({
    method: 'OPTIONS',
    url: '/oauth/token',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });

t.test('CORS is closed by default: no Access-Control-Allow-Origin for any origin, preflight included', async (t) => {
  for (const origin of [PANEL, 'https://evil.example', 'null']) {
    const res = await withOrigin(closed.publicApp, origin);
    t.equal(res.statusCode, 400, `${origin}: the request itself is answered`);
    t.notOk('access-control-allow-origin' in res.headers, `${origin}: no Access-Control-Allow-Origin`);
    t.notOk('access-control-allow-credentials' in res.headers);
    const pre = await preflight(closed.publicApp, origin);
    t.notOk('access-control-allow-origin' in pre.headers, `${origin}: preflight grants nothing`);
    t.notOk('access-control-allow-methods' in pre.headers);
  }
});

t.test('CORS_ORIGINS opens the public port to exactly the listed origins', async (t) => {
  const res = await withOrigin(open.publicApp, PANEL);
  t.equal(res.headers['access-control-allow-origin'], PANEL, 'a listed origin is allowed');
  t.match(res.headers.vary, /Origin/i, 'Vary: Origin, so caches keep answers per origin');
  const pre = await preflight(open.publicApp, PANEL);
  t.equal(pre.statusCode, 204, 'preflight 204');
  t.equal(pre.headers['access-control-allow-origin'], PANEL);
  t.equal(pre.headers['access-control-allow-methods'], 'POST, GET');
  t.equal((await withOrigin(open.publicApp, 'https://outro.dbs.example')).headers['access-control-allow-origin'], 'https://outro.dbs.example');

  for (const origin of ['https://evil.example', `${PANEL}.evil.example`, 'http://painel.dbs.example']) {
    t.notOk('access-control-allow-origin' in (await withOrigin(open.publicApp, origin)).headers, `${origin} is not allowed`);
    t.notOk('access-control-allow-origin' in (await preflight(open.publicApp, origin)).headers, `${origin}: no preflight grant`);
  }
  const bare = await open.publicApp.inject({ method: 'OPTIONS', url: '/oauth/token' });
  t.equal(bare.statusCode, 204, 'an OPTIONS request without preflight headers is no 400 text/plain either');
  t.equal(bare.body, '');
  const admin = await open.adminApp.inject({ method: 'GET', url: '/health/live', headers: { origin: PANEL } });
  t.notOk('access-control-allow-origin' in admin.headers, 'the admin port never answers CORS');
});
