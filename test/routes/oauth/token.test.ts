// POST /oauth/token: RFC 6749 §4.3 (password), §6 (refresh), §5.1/§5.2 responses, in the
// Passport shapes of docs/resellers.md. Every case runs on the embedded defaults and on PostgreSQL + Redis.
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { generateToken } from '../../../src/security/secret-box.js';
import { familyToken, newFamilyId } from '../../../src/token-store/token-store.js';
import {
  NO_STORE,
  type SeededReseller,
  type TestApp,
  build,
  eachBackend,
  form,
  passwordGrantBody,
  seedReseller,
  INVALID_REQUEST,
  invalidClient,
  basic,
} from '../../helper.js';

const invalidCredentials = {
  error: 'invalid_grant',
  error_description: 'The user credentials were incorrect.',
  message: 'The user credentials were incorrect.',
};
const invalidRefresh = (hint: string) => ({
  error: 'invalid_grant',
  error_description: 'The refresh token is invalid.',
  message: 'The refresh token is invalid.',
  hint,
});

function post(app: FastifyInstance, payload: unknown, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') {
  const isString = typeof payload === 'string';
  return app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: payload as string,
    remoteAddress,
    headers: isString ? { 'content-type': 'application/x-www-form-urlencoded', ...headers } : headers,
  });
}

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let app: FastifyInstance;
  let reseller: SeededReseller;
  let other: SeededReseller;

  t.before(async () => {
    ctx = await build(t, backend, { SCOPES: 'linhas faturas' });
    app = ctx.publicApp;
    reseller = await seedReseller(ctx.services);
    other = await seedReseller(ctx.services);
  });

  const assertError = (t: Test, res: Awaited<ReturnType<typeof post>>, status: number, body: object) => {
    t.equal(res.statusCode, status, `status ${status}`);
    t.same(res.json(), body, 'whole body');
    t.match(res.headers, NO_STORE, 'no-store headers');
  };

  t.test("RFC 6749 §4.3.2: the resellers' exact JSON body gets a Passport-shaped token response", async (t) => {
    const res = await post(app, passwordGrantBody(reseller));
    t.equal(res.statusCode, 200);
    t.match(res.headers, NO_STORE);
    const body = res.json();
    t.same(Object.keys(body).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    t.equal(body.token_type, 'Bearer');
    t.equal(body.expires_in, 3600);
    t.equal(body.scope, '');
    // <family id (128 bits)>.<256 random bits>, base64url (docs/revocation.md).
    t.match(body.access_token, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/, 'opaque token with 256 random bits');
    t.match(body.refresh_token, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    t.equal(body.access_token.split('.')[0], body.refresh_token.split('.')[0], 'both tokens name one family');
    const claims = await ctx.services.tokenStore.findAccessToken(body.access_token);
    t.match(claims, { clientId: reseller.clientId, username: reseller.email, resellerId: reseller.resellerId, scope: '' });
  });

  t.test('form bodies, a JSON number client_id, HTTP Basic and an upper-case e-mail work too', async (t) => {
    t.equal((await post(app, form(passwordGrantBody(reseller)))).statusCode, 200, 'form');
    t.equal((await post(app, passwordGrantBody(reseller, { client_id: Number(reseller.clientId) }))).statusCode, 200, 'numeric client_id');
    const { client_secret: _s, client_id: _c, ...rest } = passwordGrantBody(reseller);
    t.equal((await post(app, rest, { authorization: basic(reseller.clientId, reseller.clientSecret) })).statusCode, 200, 'Basic');
    t.equal(
      (await post(app, { ...rest, client_id: reseller.clientId }, { authorization: basic(reseller.clientId, reseller.clientSecret) })).statusCode,
      200,
      'Basic with the same body client_id',
    );
    t.equal((await post(app, passwordGrantBody(reseller, { username: reseller.email.toUpperCase() }))).statusCode, 200, 'e-mail case');
  });

  t.test('RFC 6749 §3.3 scopes: a subset, "*" for all, unknown → invalid_scope', async (t) => {
    t.equal((await post(app, passwordGrantBody(reseller, { scope: 'faturas' }))).json().scope, 'faturas');
    t.equal((await post(app, passwordGrantBody(reseller, { scope: '*' }))).json().scope, 'linhas faturas');
    assertError(t, await post(app, passwordGrantBody(reseller, { scope: 'admin' })), 400, {
      error: 'invalid_scope',
      error_description: 'The requested scope is invalid, unknown, or malformed',
      message: 'The requested scope is invalid, unknown, or malformed',
      hint: 'Check the `admin` scope',
    });
  });

  t.test('invalid_client: unknown client, wrong secret, disabled client, client not allowed the grant', async (t) => {
    assertError(t, await post(app, passwordGrantBody(reseller, { client_id: '999999' })), 401, invalidClient);
    assertError(t, await post(app, passwordGrantBody(reseller, { client_id: 'abc' })), 401, invalidClient);
    assertError(t, await post(app, passwordGrantBody(reseller, { client_secret: other.clientSecret })), 401, invalidClient);
    const { client_secret: _s, client_id: _c, ...rest } = passwordGrantBody(reseller);
    const res = await post(app, rest, { authorization: basic(reseller.clientId, 'wrong') });
    assertError(t, res, 401, invalidClient);
    t.equal(res.headers['www-authenticate'], 'Basic realm="oauth"', 'RFC 6749 §5.2: WWW-Authenticate when Basic was used');
    t.notOk((await post(app, passwordGrantBody(reseller, { client_secret: 'wrong' }))).headers['www-authenticate'], 'none without Basic');

    const disabled = await seedReseller(ctx.services);
    await ctx.services.resellers.update(disabled.resellerId, { active: false });
    assertError(t, await post(app, passwordGrantBody(disabled)), 401, invalidClient);

    const rs = await ctx.services.resourceServers.create('DBS API', ctx.services.secretBox.seal('resource-server-secret-0123456789abcdefgh'));
    assertError(
      t,
      await post(app, passwordGrantBody(reseller, { client_id: String(rs.clientId), client_secret: 'resource-server-secret-0123456789abcdefgh' })),
      401,
      invalidClient,
    );
  });

  t.test("invalid_grant: wrong password, unknown user, disabled user, another reseller's user", async (t) => {
    assertError(t, await post(app, passwordGrantBody(reseller, { password: 'wrong-password' })), 400, invalidCredentials);
    assertError(t, await post(app, passwordGrantBody(reseller, { username: 'nobody@revenda.example' })), 400, invalidCredentials);
    assertError(t, await post(app, passwordGrantBody(reseller, { username: other.email, password: other.password })), 400, invalidCredentials);
    const disabled = await seedReseller(ctx.services);
    await ctx.services.resellers.update(disabled.resellerId, { active: false });
    const user = await ctx.services.users.findByEmail(disabled.email);
    t.equal(user?.active, false);
    // Re-enable the client only: the user stays disabled.
    await ctx.services.db.prisma.client.update({ where: { id: Number(disabled.clientId) }, data: { active: true } });
    assertError(t, await post(app, passwordGrantBody(disabled)), 400, invalidCredentials);
  });

  t.test('an unknown e-mail costs exactly one password verification, like a wrong password', async (t) => {
    const hasher = ctx.services.hasher;
    let before = hasher.verifications;
    await post(app, passwordGrantBody(reseller, { username: 'ninguem@revenda.example' }));
    t.equal(hasher.verifications - before, 1, 'unknown user: one verification');
    before = hasher.verifications;
    await post(app, passwordGrantBody(reseller, { password: 'wrong-password' }));
    t.equal(hasher.verifications - before, 1, 'wrong password: one verification');
  });

  t.test('a password grant reads the database once: its client and its user in one statement, whatever exists', async (t) => {
    const { clients, users, db } = ctx.services;
    const calls: string[] = [];
    // Records each call of `target[name]` under `label`, until the test ends.
    const spy = <T extends object>(target: T, name: keyof T & string, label: string) => {
      const original = target[name] as (...args: unknown[]) => unknown;
      Object.assign(target, {
        [name]: (...args: unknown[]) => {
          calls.push(label);
          return original.apply(target, args);
        },
      });
      t.teardown(() => Object.assign(target, { [name]: original }));
    };
    spy(clients, 'findById', 'findById');
    spy(clients, 'findWithUser', 'findWithUser');
    spy(users, 'findByEmail', 'findByEmail');
    spy(db.sql, 'query', 'statement');
    for (const [what, body, status] of [
      ['a correct login', passwordGrantBody(reseller), 200],
      ['a wrong password', passwordGrantBody(reseller, { password: 'wrong-password' }), 400],
      ['an unknown e-mail', passwordGrantBody(reseller, { username: 'ninguem@revenda.example' }), 400],
      ['an unknown client', passwordGrantBody(reseller, { client_id: '2000000000' }), 401],
    ] as const) {
      calls.length = 0;
      t.equal((await post(app, body)).statusCode, status, what);
      t.same(calls, ['findWithUser', 'statement'], `${what}: one read, one statement`);
    }
  });

  t.test('invalid_request: missing, repeated, non-string and malformed parameters; other body types', async (t) => {
    const missing = (param: string) => ({
      error: 'invalid_request',
      error_description: INVALID_REQUEST,
      message: INVALID_REQUEST,
      hint: `Check the \`${param}\` parameter`,
    });
    for (const param of ['username', 'password', 'client_id', 'client_secret']) {
      const body = passwordGrantBody(reseller);
      delete body[param];
      assertError(t, await post(app, body), 400, missing(param));
      assertError(t, await post(app, { ...passwordGrantBody(reseller), [param]: '' }), 400, missing(param));
    }
    const { grant_type: _g, ...noGrant } = passwordGrantBody(reseller);
    assertError(t, await post(app, noGrant), 400, {
      ...missing('grant_type'),
      hint: 'Check the `grant_type` parameter: it must be `password` or `refresh_token`',
    });

    const repeated = await post(app, `${form(passwordGrantBody(reseller))}&password=other`);
    t.equal(repeated.statusCode, 400);
    t.match(repeated.json(), { error: 'invalid_request', error_description: INVALID_REQUEST, message: INVALID_REQUEST, hint: /password/ });

    for (const value of [123, true, { a: 1 }, ['x']]) {
      const res = await post(app, passwordGrantBody(reseller, { password: value }));
      t.equal(res.statusCode, 400, `password ${JSON.stringify(value)}`);
      t.match(res.json(), { error: 'invalid_request', hint: /password/ });
    }
    for (const value of [19.5, -1, { id: 1 }]) {
      t.match(
        (await post(app, passwordGrantBody(reseller, { client_id: value }))).json(),
        { error: 'invalid_request' },
        `client_id ${JSON.stringify(value)}`,
      );
    }

    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const res = await app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': type }, payload: 'grant_type=password' });
      t.equal(res.statusCode, 400, type);
      t.match(res.json(), { error: 'invalid_request', error_description: INVALID_REQUEST, message: INVALID_REQUEST });
      t.match(res.headers, NO_STORE);
    }
    const broken = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/json' },
      payload: '{"grant_type":',
    });
    t.equal(broken.statusCode, 400);
    t.match(broken.json(), { error: 'invalid_request' });
    const notObject = await post(app, '["password"]', { 'content-type': 'application/json' });
    t.match(notObject.json(), { error: 'invalid_request' });
  });

  t.test('client credentials in the query string, or both Basic and a body secret → invalid_request', async (t) => {
    const res = await app.inject({
      method: 'POST',
      url: `/oauth/token?client_secret=${reseller.clientSecret}`,
      payload: passwordGrantBody(reseller),
    });
    t.equal(res.statusCode, 400);
    t.match(res.json(), { error: 'invalid_request', hint: /query string/ });
    const auth = { authorization: basic(reseller.clientId, reseller.clientSecret) };
    t.match((await post(app, passwordGrantBody(reseller), auth)).json(), { error: 'invalid_request', hint: /not both/ });
    const { client_secret: _s, ...differentId } = passwordGrantBody(reseller, { client_id: other.clientId });
    t.match((await post(app, differentId, auth)).json(), { error: 'invalid_request', hint: /differs/ });
  });

  t.test('unsupported_grant_type for an authenticated client', async (t) => {
    assertError(t, await post(app, passwordGrantBody(reseller, { grant_type: 'client_credentials' })), 400, {
      error: 'unsupported_grant_type',
      error_description: 'The authorization grant type is not supported by the authorization server.',
      message: 'The authorization grant type is not supported by the authorization server.',
      hint: 'Check the `grant_type` parameter: it must be `password` or `refresh_token`',
    });
    assertError(t, await post(app, passwordGrantBody(reseller, { grant_type: 'client_credentials', client_secret: 'wrong' })), 401, invalidClient);
  });

  t.test('403 unauthorized_client from outside the allowed networks, only after client authentication', async (t) => {
    const res = await post(app, passwordGrantBody(reseller), {}, '203.0.113.9');
    assertError(t, res, 403, {
      error: 'unauthorized_client',
      error_description: 'The client is not allowed to request tokens from 203.0.113.9.',
      message: 'The client is not allowed to request tokens from 203.0.113.9.',
    });
    assertError(t, await post(app, passwordGrantBody(reseller, { client_secret: 'wrong' }), {}, '203.0.113.9'), 401, invalidClient);
    t.equal((await post(app, passwordGrantBody(reseller), {}, '::ffff:127.0.0.1')).statusCode, 200, 'IPv4-mapped IPv6 is IPv4');
    t.equal((await post(app, passwordGrantBody(reseller), {}, '::1')).statusCode, 200, 'IPv6 loopback allowed by ::1/128');
    t.equal((await post(app, passwordGrantBody(reseller), {}, '::2')).statusCode, 403);
  });

  t.test('413 invalid_request for a body over the size limit', async (t) => {
    const res = await post(app, passwordGrantBody(reseller, { password: 'x'.repeat(70 * 1024) }));
    t.equal(res.statusCode, 413);
    t.match(res.json(), { error: 'invalid_request', message: /larger than 65536 bytes/ });
    t.match(res.headers, NO_STORE);
  });

  t.test('RFC 6749 §6 refresh: rotates the pair; old tokens stop working at once', async (t) => {
    const first = (await post(app, passwordGrantBody(reseller, { scope: 'linhas faturas' }))).json();
    const refreshBody = {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: reseller.clientId,
      client_secret: reseller.clientSecret,
    };
    const res = await post(app, refreshBody);
    t.equal(res.statusCode, 200);
    t.match(res.headers, NO_STORE);
    const second = res.json();
    t.same(Object.keys(second).sort(), ['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    t.equal(second.scope, 'linhas faturas', 'keeps the original scope');
    t.not(second.access_token, first.access_token);
    t.equal(await ctx.services.tokenStore.findAccessToken(first.access_token), null, 'old access token revoked');
    t.ok(await ctx.services.tokenStore.findAccessToken(second.access_token));

    const narrower = await post(app, { ...refreshBody, refresh_token: second.refresh_token, scope: 'linhas' });
    t.equal(narrower.json().scope, 'linhas', 'a narrower scope may be asked for');
  });

  t.test('RFC 9700 §4.14.2: reusing a rotated refresh token revokes the whole family', async (t) => {
    const first = (await post(app, passwordGrantBody(reseller))).json();
    const refresh = (token: string) =>
      post(app, { grant_type: 'refresh_token', refresh_token: token, client_id: reseller.clientId, client_secret: reseller.clientSecret });
    const second = (await refresh(first.refresh_token)).json();
    assertError(t, await refresh(first.refresh_token), 400, invalidRefresh('Token has been revoked'));
    t.equal(await ctx.services.tokenStore.findAccessToken(second.access_token), null, 'the rotated access token is revoked');
    assertError(t, await refresh(second.refresh_token), 400, invalidRefresh('Token is invalid or has expired'));
  });

  t.test('invalid_grant for refresh tokens that are unknown, expired, revoked or of another client; invalid_scope if wider', async (t) => {
    const refresh = (token: string, who = reseller, extra: object = {}) =>
      post(app, { grant_type: 'refresh_token', refresh_token: token, client_id: who.clientId, client_secret: who.clientSecret, ...extra });
    assertError(t, await refresh(generateToken()), 400, invalidRefresh('Token is invalid or has expired'));

    const revoked = (await post(app, passwordGrantBody(reseller))).json();
    await ctx.services.tokenStore.revokeRefreshToken(revoked.refresh_token, reseller.clientId);
    assertError(t, await refresh(revoked.refresh_token), 400, invalidRefresh('Token is invalid or has expired'));

    const mine = (await post(app, passwordGrantBody(reseller))).json();
    assertError(t, await refresh(mine.refresh_token, other), 400, invalidRefresh('Token is invalid or has expired'));
    t.equal((await refresh(mine.refresh_token, reseller, { scope: 'faturas' })).statusCode, 400, 'wider than the original (empty) scope');
    t.match((await refresh(mine.refresh_token, reseller, { scope: 'faturas' })).json(), {
      error: 'invalid_scope',
      hint: 'Check the `faturas` scope',
    });
    t.equal((await refresh(mine.refresh_token)).statusCode, 200, 'an invalid_scope answer did not use the token up');

    const short = (await post(app, passwordGrantBody(reseller))).json();
    const claims = await ctx.services.tokenStore.findRefreshToken(short.refresh_token);
    const familyId = newFamilyId();
    const expiring = familyToken(familyId);
    const now = Math.floor(Date.now() / 1000);
    const base = claims as NonNullable<typeof claims>;
    const saved = await ctx.services.tokenStore.savePair(
      {
        access: { token: familyToken(familyId), claims: { ...base, exp: now + 1, familyId } },
        refresh: { token: expiring, claims: { ...base, exp: now + 1, familyId } },
      },
      await ctx.services.tokenStore.clientGeneration(base.clientId),
    );
    t.ok(saved);
    while (await ctx.services.tokenStore.findRefreshToken(expiring)) await new Promise((r) => setTimeout(r, 100));
    assertError(t, await refresh(expiring), 400, invalidRefresh('Token is invalid or has expired'));
    t.match((await refresh('')).json(), { error: 'invalid_request', hint: 'Check the `refresh_token` parameter' });
  });

  t.test('over a real connection: curl-equivalent JSON request from docs/resellers.md', async (t) => {
    const { publicUrl } = await ctx.listen();
    const res = await fetch(`${publicUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(passwordGrantBody(reseller)),
    });
    t.equal(res.status, 200);
    t.equal(res.headers.get('cache-control'), 'no-store');
    t.equal(res.headers.get('pragma'), 'no-cache');
    t.match(await res.json(), { token_type: 'Bearer', expires_in: 3600, scope: '' });
  });
});
