// What the public port reflects back to a caller: never an address it could not parse (an
// X-Forwarded-For entry is written by whoever sends it), and CORS grants only around the two
// browser-callable endpoints, token and revocation (Fetch standard §3.2: a preflight answered
// with Access-Control-Allow-* lets a page send the real request). HTTP-level behaviour,
// independent of the storage backend: embedded only.
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { canonicalAddress } from '../../src/security/networks.js';
import { BACKENDS, NO_STORE, type SeededReseller, type TestApp, build, passwordGrantBody, seedReseller } from '../helper.js';

const EMBEDDED = BACKENDS[0] ?? { name: 'embedded', skip: false };
const PANEL = 'https://painel.dbs.example';
const UNDETERMINED = 'The client is not allowed to request tokens from an address that could not be determined.';
const refusedFrom = (what: string) => ({ error: 'unauthorized_client', error_description: what, message: what });

let ctx: TestApp;
let app: FastifyInstance;
let reseller: SeededReseller;

t.before(async () => {
  // Behind a proxy at 127.0.0.1, the caller's address is the X-Forwarded-For entry; CORS open to the panel.
  ctx = await build(t, EMBEDDED, { TRUSTED_PROXIES: '127.0.0.1', CORS_ORIGINS: PANEL });
  app = ctx.publicApp;
  reseller = await seedReseller(ctx.services, { allowedIp: '198.51.100.0/24' });
});

t.test('403 unauthorized_client never echoes an address that does not parse', async (t) => {
  const via = (forwarded: string) =>
    app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: passwordGrantBody(reseller),
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': forwarded },
    });
  for (const forwarded of ['garbage<script>', '<img src=x onerror=alert(1)>', '203.0.113.7.evil', '10.1', 'fe80::1%<b>', '"', `${'a'.repeat(300)}`]) {
    const res = await via(forwarded);
    t.equal(res.statusCode, 403, `${JSON.stringify(forwarded)}: 403`);
    t.same(res.json(), refusedFrom(UNDETERMINED), `${JSON.stringify(forwarded)}: not echoed`);
    t.match(res.headers, NO_STORE);
  }
  // An address that parses is still named, canonically, as docs/input-validation.md documents.
  t.same((await via('203.0.113.7')).json(), refusedFrom('The client is not allowed to request tokens from 203.0.113.7.'));
  t.same((await via('::ffff:203.0.113.8')).json(), refusedFrom('The client is not allowed to request tokens from 203.0.113.8.'));
  t.equal((await via('198.51.100.4')).statusCode, 200, 'an allowed forwarded address gets its tokens');
});

t.test('canonicalAddress: IPv4-mapped IPv6 is IPv4; what is not an address is never returned as is', async (t) => {
  t.equal(canonicalAddress('::ffff:127.0.0.2'), '127.0.0.2');
  t.equal(canonicalAddress('2001:DB8::1'), '2001:db8::1');
  for (const input of ['garbage<script>', '', '1.2.3', '10.0.0.1/8'])
    t.equal(canonicalAddress(input), 'an address that could not be determined', input);
});

const preflight = (url: string, origin = PANEL) =>
  app.inject({
    method: 'OPTIONS',
    url,
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
const allowHeaders = (headers: Record<string, unknown>) => Object.keys(headers).filter((name) => name.startsWith('access-control-allow-'));

t.test('CORS only around token and revocation: a preflight anywhere else grants nothing and is not answered 204', async (t) => {
  for (const url of ['/oauth/token', '/oauth/revoke']) {
    const res = await preflight(url);
    t.equal(res.statusCode, 204, `${url}: the preflight is answered`);
    t.equal(res.headers['access-control-allow-origin'], PANEL, `${url}: for the listed origin`);
    t.match(res.headers['access-control-allow-methods'], /POST/);
  }
  for (const url of ['/oauth/introspect', '/oauth/introspect?x=1', '/health/live', '/health/ready', `${ctx.config.docsPath}/json`, '/nowhere']) {
    const res = await preflight(url);
    t.same(allowHeaders(res.headers), [], `${url}: no Access-Control-Allow-* header`);
    t.ok(res.statusCode === 404 || res.statusCode === 405, `${url}: ${res.statusCode}, not a successful preflight`);
    t.match(res.json(), { error: String }, `${url}: a documented error shape`);
  }
  // The introspection request itself carries no CORS grant either (a resource server is no browser).
  const introspection = await app.inject({ method: 'POST', url: '/oauth/introspect', payload: { token: 'x' }, headers: { origin: PANEL } });
  t.same(allowHeaders(introspection.headers), []);
  const token = await app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'password' }, headers: { origin: PANEL } });
  t.equal(token.headers['access-control-allow-origin'], PANEL, 'the token endpoint still answers the panel');
});
