// Bearer authentication of the admin API (docs/admin-api.md): any of the ADMIN_TOKENS, nothing
// else, compared in constant time; health probes on the admin port stay open.
import { createHash } from 'node:crypto';
import t from 'tap';
import { adminTokenId } from '../../../src/admin/audit.js';
import { matchesAdminToken } from '../../../src/plugins/app/admin-auth.js';
import { TEST_ADMIN_TOKEN, build, eachBackend } from '../../helper.js';
import { request } from './real-http.js';

const SECOND_TOKEN = 'second-admin-token-during-rotation-0001';
const unauthorized = { error: 'unauthorized', message: 'A valid admin bearer token is required.' };

t.test('matchesAdminToken: any configured token, nothing else', async (t) => {
  const digests = [TEST_ADMIN_TOKEN, SECOND_TOKEN].map((token) => createHash('sha256').update(token).digest());
  t.ok(matchesAdminToken(TEST_ADMIN_TOKEN, digests));
  t.ok(matchesAdminToken(SECOND_TOKEN, digests));
  t.notOk(matchesAdminToken(`${TEST_ADMIN_TOKEN}x`, digests));
  t.notOk(matchesAdminToken(TEST_ADMIN_TOKEN.slice(0, -1), digests));
  t.notOk(matchesAdminToken('', digests));
  t.notOk(matchesAdminToken(TEST_ADMIN_TOKEN, []), 'no configured token: nothing matches');
  t.equal(adminTokenId(TEST_ADMIN_TOKEN), createHash('sha256').update(TEST_ADMIN_TOKEN).digest('hex').slice(0, 8));
});

eachBackend(t, async (t, backend) => {
  let adminUrl: string;
  let publicUrl: string;

  t.before(async () => {
    const ctx = await build(t, backend, { ADMIN_TOKENS: `${TEST_ADMIN_TOKEN}, ${SECOND_TOKEN}` });
    ({ adminUrl, publicUrl } = await ctx.listen());
  });

  const list = (authorization?: string) => request(`${adminUrl}/admin/resellers`, { headers: authorization ? { authorization } : {} });

  t.test('401 without a token, with a wrong one, or with another scheme', async (t) => {
    for (const authorization of [
      undefined,
      'Bearer',
      'Bearer ',
      'Bearer wrong-token-0123456789abcdef',
      `Bearer ${TEST_ADMIN_TOKEN}x`,
      `Bearer ${TEST_ADMIN_TOKEN} ${SECOND_TOKEN}`,
      `Bearer ${TEST_ADMIN_TOKEN},${SECOND_TOKEN}`,
      `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64')}`,
      TEST_ADMIN_TOKEN,
    ]) {
      const res = await list(authorization);
      t.equal(res.status, 401, String(authorization));
      t.same(res.json(), unauthorized);
      t.equal(res.headers['www-authenticate'], 'Bearer realm="admin"');
    }
    for (const [method, path] of [
      ['PUT', '/admin/resellers/6/api'],
      ['GET', '/admin/resellers/6/api'],
      ['POST', '/admin/resellers/6/api/secret'],
      ['DELETE', '/admin/resellers/6/api'],
      ['POST', '/admin/resource-servers'],
      ['GET', '/admin/resource-servers'],
      ['DELETE', '/admin/resource-servers/3f1c2b9e-8a4d-4c57-9e21-6d0f5b7a1c33'],
    ] as const) {
      const res = await request(`${adminUrl}${path}`, { method, body: method === 'PUT' || method === 'POST' ? {} : undefined });
      t.equal(res.status, 401, `${method} ${path}: authentication comes before validation`);
      t.same(res.json(), unauthorized);
    }
  });

  t.test('both configured tokens work at once (rotation without downtime); the scheme is case-insensitive', async (t) => {
    for (const authorization of [`Bearer ${TEST_ADMIN_TOKEN}`, `Bearer ${SECOND_TOKEN}`, `bearer ${SECOND_TOKEN}`]) {
      const res = await list(authorization);
      t.equal(res.status, 200, authorization.slice(0, 12));
      t.same(res.json(), { items: [], nextCursor: null });
    }
  });

  t.test('health probes on the admin port need no token', async (t) => {
    const res = await request(`${adminUrl}/health/live`);
    t.equal(res.status, 200);
    t.same(res.json(), { status: 'ok' });
  });

  t.test('the public port answers 404 for /admin/*, even with a valid token', async (t) => {
    const res = await request(`${publicUrl}/admin/resellers`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    t.equal(res.status, 404);
    t.same(res.json(), { error: 'not_found', message: 'No route for GET /admin/resellers' });
  });
});
