// GET /auth/verify on the internal port: the nginx auth_request / ingress-nginx auth-url contract
// (2xx allows with X-Auth-* headers, 401 denies with an RFC 6750 §3 challenge). Both backends.
import { request as httpRequest } from 'node:http';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import t, { type Test } from 'tap';
import { generateToken } from '../../src/security/secret-box.js';
import { familyToken, newFamilyId } from '../../src/token-store/token-store.js';
import { type SeededReseller, type TestApp, build, eachBackend, failTokenStoreReads, passwordGrantBody, seedReseller } from '../helper.js';

const MISSING = 'Bearer realm="reseller-auth"';
const INVALID = 'Bearer realm="reseller-auth", error="invalid_token", error_description="The access token is malformed, unknown, expired or revoked"';
const invalidBody = { error: 'invalid_token', message: 'The access token is malformed, unknown, expired or revoked.' };

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let admin: FastifyInstance;
  let reseller: SeededReseller;

  t.before(async () => {
    ctx = await build(t, backend, { SCOPES: 'linhas faturas' });
    admin = ctx.adminApp;
    reseller = await seedReseller(ctx.services, { resellerId: `rv${Date.now().toString(36)}` });
  });

  const issue = async (scope = '') => {
    const res = await ctx.publicApp.inject({ method: 'POST', url: '/oauth/token', payload: passwordGrantBody(reseller, { scope }) });
    t.equal(res.statusCode, 200, 'token issued');
    return res.json() as { access_token: string; refresh_token: string };
  };

  const verify = (authorization?: string, method: 'GET' | 'HEAD' | 'POST' = 'GET') =>
    admin.inject({ method, url: '/auth/verify', headers: authorization === undefined ? {} : { authorization } });

  const assertAllowed = (t: Test, res: LightMyRequestResponse, scope: string, what: string) => {
    t.equal(res.statusCode, 200, `${what}: 200`);
    t.equal(res.body, '', `${what}: empty body`);
    t.match(
      res.headers,
      {
        'x-auth-user': reseller.email,
        'x-auth-client-id': reseller.clientId,
        'x-auth-reseller-id': reseller.resellerId,
        'x-auth-scope': scope,
        'cache-control': 'no-store',
      },
      `${what}: X-Auth-* headers`,
    );
  };

  const assertDenied = (t: Test, res: LightMyRequestResponse, challenge: string, body: object, what: string) => {
    t.equal(res.statusCode, 401, `${what}: 401`);
    t.equal(res.headers['www-authenticate'], challenge, `${what}: WWW-Authenticate`);
    t.same(res.json(), body, `${what}: whole body`);
    t.notOk(res.headers['x-auth-user'], `${what}: no identity headers`);
  };

  t.test('a valid bearer token → 200 with the caller in X-Auth-* headers', async (t) => {
    const { access_token } = await issue('linhas faturas');
    assertAllowed(t, await verify(`Bearer ${access_token}`), 'linhas faturas', 'GET');
    assertAllowed(t, await verify(`bearer  ${access_token}`), 'linhas faturas', 'scheme is case-insensitive (RFC 9110 §11.1)');
    const plain = await issue();
    assertAllowed(t, await verify(`Bearer ${plain.access_token}`), '', 'no scope: an empty X-Auth-Scope');
  });

  t.test('nginx keeps the original method and drops the body: any method is answered', async (t) => {
    const { access_token } = await issue();
    const head = await verify(`Bearer ${access_token}`, 'HEAD');
    t.equal(head.statusCode, 200, 'HEAD');
    t.equal(head.headers['x-auth-client-id'], reseller.clientId);
    const post = await admin.inject({
      method: 'POST',
      url: '/auth/verify',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
    });
    assertAllowed(t, post, '', 'POST with a JSON content type and no body');
    const put = await admin.inject({
      method: 'PUT',
      url: '/auth/verify',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/xml' },
      payload: '<ignored/>',
    });
    assertAllowed(t, put, '', 'PUT with a body of any type, ignored');
  });

  t.test('RFC 6750 §3.1: no bearer credentials → 401 with a challenge and no error code', async (t) => {
    const required = { error: 'unauthorized', message: 'A bearer access token is required.' };
    assertDenied(t, await verify(), MISSING, required, 'no Authorization header');
    assertDenied(t, await verify(`Basic ${Buffer.from('19:secret').toString('base64')}`), MISSING, required, 'Basic credentials');
    assertDenied(t, await verify(''), MISSING, required, 'empty header');
  });

  t.test('RFC 6750 §3.1: an unknown, malformed, expired, revoked or refresh token → 401 invalid_token', async (t) => {
    const pair = await issue();
    const cases: [string, string][] = [
      ['unknown token', `Bearer ${generateToken()}`],
      ['refresh token', `Bearer ${pair.refresh_token}`],
      ['no token after the scheme', 'Bearer'],
      ['characters outside b64token', 'Bearer abc def'],
      ['unicode', 'Bearer ä'],
      ['oversized', `Bearer ${'a'.repeat(5000)}`],
    ];
    for (const [what, header] of cases) assertDenied(t, await verify(header), INVALID, invalidBody, what);
    await ctx.services.tokenStore.revokeAccessToken(pair.access_token);
    assertDenied(t, await verify(`Bearer ${pair.access_token}`), INVALID, invalidBody, 'revoked token');
  });

  t.test('an expired token → 401 invalid_token', async (t) => {
    const { access_token } = await issue();
    const claims = await ctx.services.tokenStore.findAccessToken(access_token);
    const familyId = newFamilyId();
    const expiring = familyToken(familyId);
    const exp = Math.floor(Date.now() / 1000) + 1;
    const saved = await ctx.services.tokenStore.savePair(
      { access: { token: expiring, claims: { ...claims!, exp, familyId } } },
      await ctx.services.tokenStore.clientGeneration(claims!.clientId),
    );
    t.ok(saved);
    t.equal((await verify(`Bearer ${expiring}`)).statusCode, 200, 'valid until it expires');
    const deadline = Date.now() + 5000;
    let res = await verify(`Bearer ${expiring}`);
    while (res.statusCode === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      res = await verify(`Bearer ${expiring}`);
    }
    assertDenied(t, res, INVALID, invalidBody, 'expired');
  });

  t.test('503 with Retry-After when the token store cannot answer (the token is not known to be invalid)', async (t) => {
    failTokenStoreReads(t, ctx.services);
    const res = await verify(`Bearer ${generateToken()}`);
    t.equal(res.statusCode, 503);
    t.same(res.json(), { error: 'service_unavailable', message: 'The token store is unavailable. Try again shortly.' });
    t.equal(res.headers['retry-after'], '5');
  });

  t.test('only on the internal port', async (t) => {
    const { access_token } = await issue();
    const res = await ctx.publicApp.inject({ method: 'GET', url: '/auth/verify', headers: { authorization: `Bearer ${access_token}` } });
    t.equal(res.statusCode, 404);
  });

  t.test('over a real connection, as nginx sends the subrequest (POST, Content-Length removed)', async (t) => {
    const { adminUrl } = await ctx.listen();
    const { access_token } = await issue();
    const url = new URL('/auth/verify', adminUrl);
    const res = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = httpRequest(
        url,
        { method: 'POST', headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json', 'x-original-uri': '/api/linhas' } },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    t.equal(res.status, 200);
    t.equal(res.body, '');
    t.match(res.headers, {
      'x-auth-user': reseller.email,
      'x-auth-client-id': reseller.clientId,
      'x-auth-reseller-id': reseller.resellerId,
      'x-auth-scope': '',
    });
  });
});
