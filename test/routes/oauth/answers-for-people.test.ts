// What a reseller's developer reads when a request is wrong, over real connections: a method
// other than POST is 405 with Allow (RFC 9110 §15.5.6) in the OAuth shape, a refused parameter
// is named with what it must be (never the validator's own text), unsupported_grant_type lists
// the grants, and a 429 says how long to wait (RFC 6585 §4) — the same number as Retry-After.
import t, { type Test } from 'tap';
import {
  NO_STORE,
  type SeededReseller,
  type TestApp,
  basic,
  build,
  eachBackend,
  form,
  invalidRequest,
  passwordGrantBody,
  seedReseller,
} from '../../helper.js';
import { type RealResponse, request } from '../admin/real-http.js';

const ENDPOINTS = ['/oauth/token', '/oauth/revoke', '/oauth/introspect'];
const LIMIT_IP = 20;

const methodNotAllowed = (method: string) => {
  const description = `The ${method} method is not allowed on this endpoint: use POST.`;
  return { error: 'invalid_request', error_description: description, message: description };
};

const unsupportedGrant = {
  error: 'unsupported_grant_type',
  error_description: 'The authorization grant type is not supported by the authorization server.',
  message: 'The authorization grant type is not supported by the authorization server.',
  hint: 'Check the `grant_type` parameter: it must be `password` or `refresh_token`',
};

function assertOAuthError(t: Test, res: RealResponse, status: number, body: object, what: string): void {
  t.equal(res.status, status, `${what}: ${status}`);
  t.same(res.json(), body, `${what}: whole body`);
  t.match(res.headers, NO_STORE, `${what}: no-store headers`);
}

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let publicUrl: string;
  let reseller: SeededReseller;

  t.before(async () => {
    ctx = await build(t, backend, { LOGIN_MAX_FAILURES_IP: String(LIMIT_IP), LOGIN_WINDOW: '900' });
    ({ publicUrl } = await ctx.listen());
    reseller = await seedReseller(ctx.services);
  });

  /**
   * A POST from a loopback address of the test's own (Linux routes 127.0.0.0/8 to loopback), so
   * that its malformed requests count against that address only: a JSON body, or a string as a form.
   */
  const post = (path: string, body: unknown, localAddress: string, headers: Record<string, string> = {}) =>
    typeof body === 'string'
      ? request(`${publicUrl}${path}`, {
          method: 'POST',
          localAddress,
          rawBody: body,
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        })
      : request(`${publicUrl}${path}`, { method: 'POST', localAddress, body, headers });

  t.test('RFC 9110 §15.5.6: any other method on an OAuth endpoint is 405 with Allow: POST, in the OAuth shape', async (t) => {
    for (const path of ENDPOINTS) {
      for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
        const res = await request(`${publicUrl}${path}?grant_type=password`, { method, localAddress: '127.0.0.2' });
        assertOAuthError(t, res, 405, methodNotAllowed(method), `${method} ${path}`);
        t.equal(res.headers.allow, 'POST', `${method} ${path}: Allow`);
        t.equal(res.headers['content-type'], 'application/json; charset=utf-8', `${method} ${path}: JSON`);
      }
      const head = await request(`${publicUrl}${path}`, { method: 'HEAD', localAddress: '127.0.0.2' });
      t.equal(head.status, 405, `HEAD ${path}: 405`);
      t.equal(head.headers.allow, 'POST', `HEAD ${path}: Allow`);
      t.equal(head.text, '', `HEAD ${path}: no body`);
      // The method is what is wrong, whatever the body holds: it is not even parsed.
      const garbage = await request(`${publicUrl}${path}`, {
        method: 'PUT',
        localAddress: '127.0.0.2',
        headers: { 'content-type': 'text/plain' },
        rawBody: 'not a form',
      });
      assertOAuthError(t, garbage, 405, methodNotAllowed('PUT'), `PUT ${path} with a text body`);
    }
    t.equal((await post('/oauth/token', passwordGrantBody(reseller), '127.0.0.2')).status, 200, 'POST still issues tokens');
    t.equal((await request(`${publicUrl}/oauth/tokens`)).status, 404, 'a path that does not exist is still 404');
  });

  t.test('RFC 6749 §5.2: a refused parameter is named with what it must be, not in the validator’s words', async (t) => {
    const from = '127.0.0.3';
    const creds = { client_id: reseller.clientId, client_secret: reseller.clientSecret };
    const cases: [string, string, unknown, string][] = [
      ['/oauth/token', 'JSON null', null, 'The request body must be a JSON object or form parameters'],
      ['/oauth/token', 'a JSON array', [passwordGrantBody(reseller)], 'The request body must be a JSON object or form parameters'],
      [
        '/oauth/token',
        'client_id true',
        passwordGrantBody(reseller, { client_id: true }),
        'Check the `client_id` parameter: it must be a string or a positive integer',
      ],
      [
        '/oauth/token',
        'client_id -19',
        passwordGrantBody(reseller, { client_id: -19 }),
        'Check the `client_id` parameter: it must be a positive integer',
      ],
      ['/oauth/token', 'a numeric username', passwordGrantBody(reseller, { username: 42 }), 'Check the `username` parameter: it must be a string'],
      [
        '/oauth/token',
        'an object password',
        passwordGrantBody(reseller, { password: { a: 1 } }),
        'Check the `password` parameter: it must be a string',
      ],
      [
        '/oauth/token',
        'a 4097-character scope',
        passwordGrantBody(reseller, { scope: 's'.repeat(4097) }),
        'Check the `scope` parameter: it must be at most 4096 characters',
      ],
      [
        '/oauth/token',
        'username twice in a form',
        `${form(passwordGrantBody(reseller))}&username=other@revenda.example`,
        'Check the `username` parameter: it is given more than once',
      ],
      ['/oauth/token', 'no grant_type', { ...creds, username: reseller.email, password: reseller.password }, unsupportedGrant.hint],
      ['/oauth/revoke', 'a numeric token', { ...creds, token: 42 }, 'Check the `token` parameter: it must be a string'],
      [
        '/oauth/revoke',
        'client_id false',
        { token: 'x', client_id: false, client_secret: 'y' },
        'Check the `client_id` parameter: it must be a string or a positive integer',
      ],
    ];
    for (const [path, what, body, hint] of cases) {
      const res = await post(path, body, from);
      assertOAuthError(t, res, 400, invalidRequest(hint), `${path}, ${what}`);
      t.notMatch(res.text, /Invalid input|expected \w+, received|body\//, `${path}, ${what}: no validator wording`);
    }
  });

  t.test('unsupported_grant_type names the grants the server offers', async (t) => {
    for (const grant of ['client_credentials', 'authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer']) {
      const res = await post('/oauth/token', passwordGrantBody(reseller, { grant_type: grant }), '127.0.0.4');
      assertOAuthError(t, res, 400, unsupportedGrant, grant);
    }
    const basicAuth = { authorization: basic(reseller.clientId, reseller.clientSecret) };
    const res = await post('/oauth/token', form({ grant_type: 'client_credentials', scope: '' }), '127.0.0.4', basicAuth);
    assertOAuthError(t, res, 400, unsupportedGrant, 'form body with HTTP Basic');
  });

  t.test('RFC 6585 §4: a 429 says how long to wait, the same whole seconds as Retry-After', async (t) => {
    const from = '127.0.0.5';
    // Malformed requests count against the address (docs/rate-limits.md).
    for (let i = 0; i < LIMIT_IP; i++) t.equal((await post('/oauth/token', null, from)).status, 400, `malformed request ${i + 1}`);
    for (const path of ['/oauth/token', '/oauth/revoke']) {
      const res = await post(path, passwordGrantBody(reseller), from);
      t.equal(res.status, 429, `${path}: 429`);
      const wait = Number(res.headers['retry-after']);
      t.ok(Number.isInteger(wait) && wait > 1 && wait <= 900, `${path}: Retry-After is whole seconds within the window (${wait})`);
      const description = `Too many failed attempts. Try again in ${wait} seconds.`;
      t.same(res.json(), { error: 'too_many_requests', error_description: description, message: description }, `${path}: whole body`);
      t.match(res.headers, NO_STORE, `${path}: no-store headers`);
    }
  });
});
