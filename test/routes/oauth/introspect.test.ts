// POST /oauth/introspect: RFC 7662 §2.1 (request), §2.2 (response), §2.3 (errors), as
// docs/resource-servers.md specifies them. Every case runs on the embedded defaults and on PostgreSQL + Redis.
import http from 'node:http';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import t, { type Test } from 'tap';
import { generateToken } from '../../../src/security/secret-box.js';
import { familyToken, newFamilyId } from '../../../src/token-store/token-store.js';
import type { TokenClaims } from '../../../src/token-store/token-store.js';
import {
  NO_STORE,
  type SeededReseller,
  TOKEN_STORE_UNAVAILABLE,
  type TestApp,
  build,
  eachBackend,
  failTokenStoreReads,
  form,
  passwordGrantBody,
  seedReseller,
  invalidClient,
  invalidRequest,
  basic,
} from '../../helper.js';

const ISSUER = 'https://auth.dbs.example';
/** Every introspection answer, errors included: no-store (RFC 6749 §5.1) and the API security headers. */
const ANSWER_HEADERS = {
  ...NO_STORE,
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
};

interface ResourceServerCredentials {
  id: string;
  clientId: string;
  secret: string;
}

/** What POST /admin/resource-servers does: create, then tell every instance. */
async function registerResourceServer(ctx: TestApp, secret = `rs-${generateToken()}`): Promise<ResourceServerCredentials> {
  const rs = await ctx.services.resourceServers.create('DBS API', ctx.services.secretBox.seal(secret));
  await ctx.services.events.publish('resource-servers');
  return { id: rs.id, clientId: String(rs.clientId), secret };
}

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let app: FastifyInstance;
  let reseller: SeededReseller;
  let rs: ResourceServerCredentials;
  let auth: string;

  t.before(async () => {
    ctx = await build(t, backend, { SCOPES: 'linhas faturas', ISSUER });
    app = ctx.publicApp;
    reseller = await seedReseller(ctx.services);
    rs = await registerResourceServer(ctx);
    auth = basic(rs.clientId, rs.secret);
  });

  const issue = async (extra: Record<string, unknown> = {}) => {
    const res = await app.inject({ method: 'POST', url: '/oauth/token', payload: passwordGrantBody(reseller, extra), remoteAddress: '127.0.0.1' });
    t.equal(res.statusCode, 200, 'token issued');
    return res.json() as { access_token: string; refresh_token: string };
  };

  const introspect = (payload: string | object | undefined, headers: Record<string, string> = { authorization: auth }, url = '/oauth/introspect') =>
    app.inject({
      method: 'POST',
      url,
      payload: payload as string,
      headers: typeof payload === 'string' ? { 'content-type': 'application/x-www-form-urlencoded', ...headers } : headers,
    });

  const assertInactive = (t: Test, res: LightMyRequestResponse, what: string) => {
    t.equal(res.statusCode, 200, `${what}: 200`);
    t.equal(res.body, '{"active":false}', `${what}: {"active":false} and nothing else`);
    t.match(res.headers, { ...ANSWER_HEADERS, 'content-type': 'application/json; charset=utf-8' }, `${what}: headers`);
  };

  const assertError = (t: Test, res: LightMyRequestResponse, status: number, body: object, what: string) => {
    t.equal(res.statusCode, status, `${what}: ${status}`);
    t.same(res.json(), body, `${what}: whole body`);
    t.match(res.headers, ANSWER_HEADERS, `${what}: no-store and security headers`);
  };

  const activeBody = (claims: TokenClaims) => ({
    active: true,
    token_type: 'Bearer',
    scope: claims.scope,
    client_id: reseller.clientId,
    username: reseller.email,
    sub: String(reseller.userId),
    reseller_id: reseller.resellerId,
    exp: claims.exp,
    iat: claims.iat,
    iss: ISSUER,
    jti: claims.jti,
  });

  t.test('RFC 7662 §2.2: an active token gets exactly the members of docs/resource-servers.md, in its order', async (t) => {
    const { access_token } = await issue({ scope: 'linhas faturas' });
    const claims = (await ctx.services.tokenStore.findAccessToken(access_token)) as TokenClaims;
    const res = await introspect(form({ token: access_token }));
    t.equal(res.statusCode, 200);
    t.match(res.headers, { ...ANSWER_HEADERS, 'content-type': 'application/json; charset=utf-8' }, 'headers');
    t.same(res.json(), activeBody(claims), 'whole body');
    t.equal(res.body, JSON.stringify(activeBody(claims)), 'member order and encoding as docs/resource-servers.md shows');
    t.equal(res.json().scope, 'linhas faturas');
    t.ok(claims.exp - claims.iat === 3600, 'exp is iat + ACCESS_TOKEN_TTL');
    t.match(claims.jti, /^[0-9a-f-]{36}$/);
  });

  t.test('RFC 7662 §2.1: form or JSON body; token_type_hint is optional and never changes the answer', async (t) => {
    const { access_token, refresh_token } = await issue();
    const expected = activeBody((await ctx.services.tokenStore.findAccessToken(access_token)) as TokenClaims);
    t.same((await introspect({ token: access_token })).json(), expected, 'JSON body');
    for (const hint of ['access_token', 'refresh_token', 'something_else']) {
      t.same((await introspect(form({ token: access_token, token_type_hint: hint }))).json(), expected, `hint ${hint}: active`);
      assertInactive(t, await introspect({ token: refresh_token, token_type_hint: hint }), `refresh token with hint ${hint}`);
    }
    t.same((await introspect(form({ token: access_token, token_type_hint: '' }))).json(), expected, 'empty hint = no hint');
  });

  t.test('RFC 7662 §2.2: every inactive case is {"active":false} and nothing else', async (t) => {
    assertInactive(t, await introspect(form({ token: generateToken() })), 'unknown token');
    assertInactive(t, await introspect(form({ token: 'not a token at all, ünïcödé' })), 'malformed token');
    assertInactive(t, await introspect(form({ token: 'x'.repeat(5000) })), 'oversized token');
    assertInactive(t, await introspect({ token: 'a.b.c' }), 'a JWT-shaped string');

    const { access_token, refresh_token } = await issue();
    assertInactive(t, await introspect(form({ token: refresh_token })), 'refresh token');
    await ctx.services.tokenStore.revokeAccessToken(access_token);
    assertInactive(t, await introspect(form({ token: access_token })), 'revoked token');

    // Switching a reseller's access off: client and user disabled, every token revoked (docs/revocation.md).
    const disabled = await seedReseller(ctx.services);
    const before = (await app.inject({ method: 'POST', url: '/oauth/token', payload: passwordGrantBody(disabled) })).json().access_token;
    t.equal((await introspect(form({ token: before }))).json().active, true, 'active before the disable');
    await ctx.services.resellers.update(disabled.resellerId, { active: false });
    await ctx.services.tokenStore.revokeClientTokens(disabled.clientId);
    assertInactive(t, await introspect(form({ token: before })), 'token of a disabled client and user');

    // A password change revokes every token of the user (docs/revocation.md).
    const { access_token: userToken } = await issue();
    await ctx.services.resellers.update(reseller.resellerId, { passwordHash: await ctx.services.hasher.hash(reseller.password) });
    await ctx.services.tokenStore.revokeClientTokens(reseller.clientId);
    assertInactive(t, await introspect(form({ token: userToken })), 'token of a user whose password changed');
  });

  t.test('RFC 7662 §2.2: an expired token is inactive', async (t) => {
    const { access_token } = await issue();
    const claims = (await ctx.services.tokenStore.findAccessToken(access_token)) as TokenClaims;
    const familyId = newFamilyId();
    const expiring = familyToken(familyId);
    const now = Math.floor(Date.now() / 1000);
    const saved = await ctx.services.tokenStore.savePair(
      { access: { token: expiring, claims: { ...claims, jti: 'expiring', exp: now + 1, familyId } } },
      await ctx.services.tokenStore.clientGeneration(claims.clientId),
    );
    t.ok(saved);
    t.equal((await introspect(form({ token: expiring }))).json().active, true, 'active until it expires');
    const deadline = Date.now() + 5000;
    let res = await introspect(form({ token: expiring }));
    while (res.json().active && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      res = await introspect(form({ token: expiring }));
    }
    assertInactive(t, res, 'expired token');
  });

  t.test('RFC 7662 §2.1: a missing, empty, repeated or non-string token is invalid_request', async (t) => {
    const missing = invalidRequest('Check the `token` parameter');
    assertError(t, await introspect(undefined), 400, missing, 'no body');
    assertError(t, await introspect(form({ token_type_hint: 'access_token' })), 400, missing, 'no token');
    assertError(t, await introspect(form({ token: '' })), 400, missing, 'empty token (RFC 6749 §3.2)');
    assertError(t, await introspect({}), 400, missing, 'empty JSON object');
    assertError(t, await introspect('token=a&token=b'), 400, invalidRequest('Check the `token` parameter: it is given more than once'), 'repeated');
    assertError(t, await introspect({ token: 123 }), 400, invalidRequest('Check the `token` parameter: it must be a string'), 'number');
    assertError(t, await introspect({ token: ['x'] }), 400, invalidRequest('Check the `token` parameter: it is given more than once'), 'array');
    assertError(
      t,
      await introspect({ token: 'x', token_type_hint: 5 }),
      400,
      invalidRequest('Check the `token_type_hint` parameter: it must be a string'),
      'hint',
    );
    assertError(
      t,
      await introspect('["x"]', { authorization: auth, 'content-type': 'application/json' }),
      400,
      invalidRequest('The request body must be a JSON object or form parameters'),
      'array body',
    );
    assertError(
      t,
      await introspect(form({ token: 'x' }), { authorization: auth }, `/oauth/introspect?token=${generateToken()}`),
      400,
      invalidRequest('Credentials are not accepted in the query string: send `token` in the request body'),
      'token in the query string',
    );
    assertError(
      t,
      await introspect(form({ token: 'x', client_secret: rs.secret })),
      400,
      invalidRequest('Send the client credentials with HTTP Basic only, not in the body'),
      'Basic and a body secret',
    );
    const text = await app.inject({
      method: 'POST',
      url: '/oauth/introspect',
      headers: { authorization: auth, 'content-type': 'text/plain' },
      payload: 'token=x',
    });
    t.equal(text.statusCode, 400, 'unsupported body type');
    t.match(text.json(), { error: 'invalid_request' });
  });

  t.test('RFC 7662 §2.3: anything but a registered resource server by HTTP Basic is 401 invalid_client', async (t) => {
    const { access_token } = await issue();
    const token = form({ token: access_token });
    const cases: [string, Record<string, string>][] = [
      ['no credentials', {}],
      ['wrong secret', { authorization: basic(rs.clientId, `${rs.secret}x`) }],
      ['unknown client id', { authorization: basic('999999', rs.secret) }],
      ['non-numeric client id', { authorization: basic('dbs-api', rs.secret) }],
      ["a reseller client's valid credentials", { authorization: basic(reseller.clientId, reseller.clientSecret) }],
      ['Basic without a colon', { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }],
      ['Basic with garbage', { authorization: 'Basic !!!' }],
      ['a bearer token', { authorization: `Bearer ${access_token}` }],
    ];
    for (const [what, headers] of cases) {
      const res = await introspect(token, headers);
      assertError(t, res, 401, invalidClient, what);
      t.equal(res.headers['www-authenticate'], 'Basic realm="oauth"', `${what}: WWW-Authenticate`);
    }
    const inBody = await introspect(form({ token: access_token, client_id: rs.clientId, client_secret: rs.secret }), {});
    assertError(t, inBody, 401, invalidClient, 'resource server credentials in the body');
    t.equal(inBody.headers['www-authenticate'], 'Basic realm="oauth"');
    assertError(t, await introspect(undefined, {}), 401, invalidClient, 'authentication is checked before the body');
  });

  t.test('a removed resource server is refused from the next request on; a new one is accepted at once', async (t) => {
    const { access_token } = await issue();
    const other = await registerResourceServer(ctx);
    const headers = { authorization: basic(other.clientId, other.secret) };
    t.equal((await introspect(form({ token: access_token }), headers)).json().active, true, 'accepted right after registration');
    await ctx.services.resourceServers.remove(other.id);
    await ctx.services.events.publish('resource-servers');
    assertError(t, await introspect(form({ token: access_token }), headers), 401, invalidClient, 'refused right after removal');
    t.equal((await introspect(form({ token: access_token }))).json().active, true, 'the other resource server is unaffected');
  });

  t.test('503 temporarily_unavailable, never active:false, when the token store cannot answer', async (t) => {
    failTokenStoreReads(t, ctx.services);
    const res = await introspect(form({ token: generateToken() }));
    assertError(t, res, 503, TOKEN_STORE_UNAVAILABLE, 'store down');
    t.equal(res.headers['retry-after'], '5');
  });

  t.test('introspections are counted by result', async (t) => {
    const values = async () =>
      Object.fromEntries(((await ctx.services.metrics.introspections.get()).values ?? []).map((v) => [String(v.labels.result), v.value])) as Record<
        string,
        number
      >;
    const before = await values();
    const { access_token } = await issue();
    await introspect(form({ token: access_token }));
    await introspect(form({ token: generateToken() }));
    await introspect(form({ token: access_token }), {});
    const after = await values();
    t.equal((after.active ?? 0) - (before.active ?? 0), 1, 'active');
    t.equal((after.inactive ?? 0) - (before.inactive ?? 0), 1, 'inactive');
    t.equal((after.unauthorized ?? 0) - (before.unauthorized ?? 0), 1, 'unauthorized');
  });

  t.test('over a real connection: the resource server request of RFC 7662 §2.1', async (t) => {
    const { publicUrl } = await ctx.listen();
    const { access_token } = await issue();
    const res = await fetch(`${publicUrl}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form({ token: access_token, token_type_hint: 'access_token' }),
    });
    t.equal(res.status, 200);
    t.equal(res.headers.get('cache-control'), 'no-store');
    t.equal(res.headers.get('pragma'), 'no-cache');
    t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    t.same(await res.json(), activeBody((await ctx.services.tokenStore.findAccessToken(access_token)) as TokenClaims));
  });

  t.test('one keep-alive connection: a remembered Basic header stops working once its resource server is removed', async (t) => {
    const { publicUrl } = await ctx.listen();
    const { access_token } = await issue();
    const other = await registerResourceServer(ctx);
    // One socket for every request of this test, as a resource server's keep-alive pool would reuse it.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(() => agent.destroy());
    const sockets = new Set<unknown>();
    const ask = (authorization: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          `${publicUrl}/oauth/introspect`,
          { method: 'POST', agent, headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' } },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              body += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('socket', (socket) => sockets.add(socket));
        req.on('error', reject);
        req.end(form({ token: access_token }));
      });
    const original = basic(other.clientId, other.secret);
    for (let i = 0; i < 3; i++) t.equal(JSON.parse((await ask(original)).body).active, true, `request ${i + 1} with the registered secret`);
    // Same length, one character off: compared in full, not taken for the remembered header.
    const last = original.at(-1) === 'A' ? 'B' : 'A';
    t.equal((await ask(`${original.slice(0, -1)}${last}`)).status, 401, 'a near-identical header is refused on the same connection');
    t.equal(JSON.parse((await ask(original)).body).active, true, 'the registered one still works after it');

    await ctx.services.resourceServers.remove(other.id);
    await ctx.services.events.publish('resource-servers');
    t.equal((await ask(original)).status, 401, 'the remembered header is refused right after the removal');
    t.equal(JSON.parse((await ask(auth)).body).active, true, 'another resource server on the same connection is verified afresh');
    t.equal(sockets.size, 1, 'every request went over one connection');
  });
});
