// POST /oauth/revoke: RFC 7009 §2.1 (request), §2.2 (response), §2.2.1 (errors), as
// docs/resource-servers.md specifies them. Every case runs on the embedded defaults and on PostgreSQL + Redis.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import t, { type Test } from 'tap';
import { generateToken } from '../../../src/security/secret-box.js';
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

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let app: FastifyInstance;
  let reseller: SeededReseller;
  let other: SeededReseller;

  t.before(async () => {
    ctx = await build(t, backend);
    app = ctx.publicApp;
    reseller = await seedReseller(ctx.services);
    other = await seedReseller(ctx.services);
  });

  const issue = async (who: SeededReseller = reseller) => {
    const res = await app.inject({ method: 'POST', url: '/oauth/token', payload: passwordGrantBody(who) });
    t.equal(res.statusCode, 200, 'token issued');
    return res.json() as { access_token: string; refresh_token: string };
  };

  const refresh = (token: string, who: SeededReseller = reseller) =>
    app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'refresh_token', refresh_token: token, client_id: who.clientId, client_secret: who.clientSecret },
    });

  const revoke = (payload: string | object | undefined, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1', url = '/oauth/revoke') =>
    app.inject({
      method: 'POST',
      url,
      payload: payload as string,
      remoteAddress,
      headers: typeof payload === 'string' ? { 'content-type': 'application/x-www-form-urlencoded', ...headers } : headers,
    });

  /** Revocation in the body, as Passport integrations send client credentials. */
  const revokeAs = (token: string, who: SeededReseller = reseller, extra: Record<string, string> = {}) =>
    revoke({ token, client_id: who.clientId, client_secret: who.clientSecret, ...extra });

  const active = async (token: string) => (await ctx.services.tokenStore.findAccessToken(token)) !== null;

  const assertRevoked = (t: Test, res: LightMyRequestResponse, what: string) => {
    t.equal(res.statusCode, 200, `${what}: 200`);
    t.equal(res.body, '', `${what}: empty body`);
    t.equal(res.headers['content-length'], '0', `${what}: content-length 0`);
    t.match(res.headers, NO_STORE, `${what}: no-store headers`);
  };

  const assertError = (t: Test, res: LightMyRequestResponse, status: number, body: object, what: string) => {
    t.equal(res.statusCode, status, `${what}: ${status}`);
    t.same(res.json(), body, `${what}: whole body`);
    t.match(res.headers, NO_STORE, `${what}: no-store headers`);
  };

  t.test('RFC 7009 §2.1: revoking an access token leaves its refresh token usable', async (t) => {
    const pair = await issue();
    assertRevoked(t, await revokeAs(pair.access_token), 'access token');
    t.notOk(await active(pair.access_token), 'the access token is gone');
    const rotated = await refresh(pair.refresh_token);
    t.equal(rotated.statusCode, 200, 'the refresh token still works');
    t.ok(await active(rotated.json().access_token));
  });

  t.test('RFC 7009 §2.1: revoking a refresh token also revokes the access token issued with it', async (t) => {
    const pair = await issue();
    const res = await revoke(form({ token: pair.refresh_token, token_type_hint: 'refresh_token' }), {
      authorization: basic(reseller.clientId, reseller.clientSecret),
    });
    assertRevoked(t, res, 'refresh token, form body and HTTP Basic');
    t.notOk(await active(pair.access_token), 'its access token is gone');
    t.equal(await ctx.services.tokenStore.findRefreshToken(pair.refresh_token), null, 'the refresh token is gone');
    t.match((await refresh(pair.refresh_token)).json(), { error: 'invalid_grant' }, 'the refresh grant refuses it');
  });

  t.test('RFC 7009 §2.1: a wrong or unknown token_type_hint only changes where the search starts', async (t) => {
    for (const [hint, kind] of [
      ['refresh_token', 'access_token'],
      ['access_token', 'refresh_token'],
      ['id_token', 'access_token'],
      ['no_such_type', 'refresh_token'],
    ] as const) {
      const pair = await issue();
      assertRevoked(t, await revokeAs(pair[kind], reseller, { token_type_hint: hint }), `${kind} with hint ${hint}`);
      t.notOk(await active(pair.access_token), `${kind} with hint ${hint}: access token revoked`);
      const refreshAlive = (await ctx.services.tokenStore.findRefreshToken(pair.refresh_token)) !== null;
      t.equal(refreshAlive, kind === 'access_token', `${kind} with hint ${hint}: refresh token ${kind === 'access_token' ? 'kept' : 'revoked'}`);
    }
  });

  t.test('RFC 7009 §2.2: 200 for an unknown token and for a token of another client, which stays valid', async (t) => {
    assertRevoked(t, await revokeAs(generateToken()), 'unknown token');
    assertRevoked(t, await revokeAs('not a token'), 'malformed token');
    const theirs = await issue(other);
    assertRevoked(t, await revokeAs(theirs.access_token), "another client's access token");
    assertRevoked(t, await revokeAs(theirs.refresh_token), "another client's refresh token");
    t.ok(await active(theirs.access_token), "the other client's access token is still valid");
    t.equal((await refresh(theirs.refresh_token, other)).statusCode, 200, "the other client's refresh token still works");
    const again = await issue();
    await revokeAs(again.access_token);
    assertRevoked(t, await revokeAs(again.access_token), 'a token revoked before');
  });

  t.test('docs/resource-servers.md: the IP allow-list does not apply to revocation', async (t) => {
    const pair = await issue();
    assertRevoked(
      t,
      await revoke({ token: pair.access_token, client_id: reseller.clientId, client_secret: reseller.clientSecret }, {}, '203.0.113.9'),
      'outside',
    );
    t.notOk(await active(pair.access_token));
  });

  // The schema of the body names the parameter at fault, as on /oauth/token.
  t.test('RFC 7009 §2.1: a missing, empty or repeated token is invalid_request', async (t) => {
    const missing = invalidRequest('Check the `token` parameter');
    const creds = { client_id: reseller.clientId, client_secret: reseller.clientSecret };
    assertError(t, await revoke(creds), 400, missing, 'no token');
    assertError(t, await revoke({ ...creds, token: '' }), 400, missing, 'empty token');
    assertError(
      t,
      await revoke(`${form(creds)}&token=a&token=b`),
      400,
      invalidRequest('Check the `token` parameter: it is given more than once'),
      'repeated',
    );
    assertError(t, await revoke({ ...creds, token: 42 }), 400, invalidRequest('Check the `token` parameter: it must be a string'), 'number');
    assertError(
      t,
      await revoke({ ...creds, token: 'x' }, {}, '127.0.0.1', `/oauth/revoke?token=${generateToken()}`),
      400,
      invalidRequest('Credentials are not accepted in the query string: send `token` in the request body'),
      'token in the query string',
    );
  });

  t.test('RFC 7009 §2.1 / RFC 6749 §2.3.1: client authentication as on /oauth/token', async (t) => {
    const pair = await issue();
    assertError(t, await revokeAs(pair.access_token, { ...reseller, clientSecret: 'wrong' }), 401, invalidClient, 'wrong secret');
    assertError(t, await revokeAs(pair.access_token, { ...reseller, clientId: '999999' }), 401, invalidClient, 'unknown client');
    const withBasic = await revoke(form({ token: pair.access_token }), { authorization: basic(reseller.clientId, 'wrong') });
    assertError(t, withBasic, 401, invalidClient, 'wrong secret by Basic');
    t.equal(withBasic.headers['www-authenticate'], 'Basic realm="oauth"', 'RFC 6749 §5.2: WWW-Authenticate when Basic was used');

    const rsSecret = `rs-${generateToken()}`;
    const rs = await ctx.services.resourceServers.create('DBS API', ctx.services.secretBox.seal(rsSecret));
    assertError(
      t,
      await revoke({ token: pair.access_token, client_id: String(rs.clientId), client_secret: rsSecret }),
      401,
      invalidClient,
      'a resource server',
    );

    const disabled = await seedReseller(ctx.services);
    await ctx.services.resellers.update(disabled.resellerId, { active: false });
    assertError(t, await revokeAs(pair.access_token, disabled), 401, invalidClient, 'a disabled client');

    assertError(t, await revoke({ token: pair.access_token }), 400, invalidRequest('Check the `client_id` parameter'), 'no client credentials');
    assertError(
      t,
      await revoke(
        { token: pair.access_token, client_id: reseller.clientId, client_secret: reseller.clientSecret },
        { authorization: basic(reseller.clientId, reseller.clientSecret) },
      ),
      400,
      invalidRequest('Send the client credentials either with HTTP Basic or in the body, not both'),
      'Basic and a body secret',
    );
    t.ok(await active(pair.access_token), 'no failed request revoked anything');
  });

  t.test('RFC 7009 §2.2.1: 503 with Retry-After when the token store cannot answer; the token may still be valid', async (t) => {
    const pair = await issue();
    failTokenStoreReads(t, ctx.services);
    const res = await revokeAs(pair.access_token);
    assertError(t, res, 503, TOKEN_STORE_UNAVAILABLE, 'store down');
    t.equal(res.headers['retry-after'], '5');
  });
});
