// The panel's "Revendas → API" modal over real connections (docs/admin-api.md):
// configure, show, the token request it enables, and each consequence of a later change.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import type { ApiAccessView } from '../../../src/admin/views.js';
import { TEST_ADMIN_TOKEN, type TestApp, build, eachBackend } from '../../helper.js';
import { type AdminClient, adminClient, invalidClient, invalidGrant, request, requestToken, unauthorizedClient } from './real-http.js';

const uid = () => `r${randomBytes(4).toString('hex')}`;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function modal(resellerId: string, overrides: Record<string, unknown> = {}) {
  return {
    name: 'meu nome aqui',
    email: `Meu_Nome.${resellerId}@Aqui.com.br`,
    password: `senha-${resellerId}`,
    allowedIp: '127.0.0.1',
    ...overrides,
  };
}

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let admin: AdminClient;
  let publicUrl: string;
  let introspectAuth: string;

  t.before(async () => {
    ctx = await build(t, backend);
    const urls = await ctx.listen();
    publicUrl = urls.publicUrl;
    admin = adminClient(urls.adminUrl, TEST_ADMIN_TOKEN);
    // A resource server, registered through the admin API, to ask whether tokens still introspect.
    const registered = (await admin.post('/admin/resource-servers', { name: 'DBS API' })).json<{ clientId: string; clientSecret: string }>();
    introspectAuth = `Basic ${Buffer.from(`${registered.clientId}:${registered.clientSecret}`).toString('base64')}`;
    // The introspection endpoint learns of new resource servers by a change event (Redis pub/sub: asynchronous).
    for (let i = 0; i < 100 && (await introspect('not-a-token')).status !== 200; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  });

  const introspect = (token: string) =>
    request(`${publicUrl}/oauth/introspect`, { method: 'POST', body: { token }, headers: { authorization: introspectAuth } });

  /** Configures a fresh reseller over the admin API; returns its access and password. */
  async function configured(overrides: Record<string, unknown> = {}) {
    const resellerId = uid();
    const body = modal(resellerId, overrides);
    const res = await admin.put(`/admin/resellers/${resellerId}/api`, body);
    if (res.status !== 201) throw new Error(`configure failed: ${res.status} ${res.text}`);
    const access = res.json<ApiAccessView>();
    return {
      resellerId,
      access,
      body,
      credentials: { clientId: access.clientId, clientSecret: access.clientSecret ?? '', email: access.email, password: String(body.password) },
    };
  }

  async function tokens(credentials: Parameters<typeof requestToken>[1]) {
    const res = await requestToken(publicUrl, credentials);
    if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.text}`);
    return res.json<{ access_token: string; refresh_token: string }>();
  }

  /** Does the access token still introspect (RFC 7662, over HTTP), and is the refresh token still stored? */
  const isLive = async (pair: { access_token: string; refresh_token: string }) => {
    const answer = await introspect(pair.access_token);
    if (answer.status !== 200) throw new Error(`introspection failed: ${answer.status} ${answer.text}`);
    return {
      access: answer.json().active === true,
      refresh: (await ctx.services.tokenStore.findRefreshToken(pair.refresh_token)) !== null,
    };
  };

  t.test(
    'the modal flow: the invalid example IP of docs/admin-api.md → 400; Salvar → 201; API again → same credentials; token 200 from the allowed address, 403 from another',
    async (t) => {
      const resellerId = uid();
      const path = `/admin/resellers/${resellerId}/api`;

      const invalid = await admin.put(path, modal(resellerId, { allowedIp: '192.168.123.456/32' }));
      t.equal(invalid.status, 400);
      t.match(invalid.headers['content-type'], /^application\/json/);
      t.same(invalid.json(), {
        error: 'validation_failed',
        message: 'Invalid field: allowedIp',
        fields: { allowedIp: '"192.168.123.456/32": "192.168.123.456" is not a valid IPv4 or IPv6 address' },
      });
      t.equal((await admin.get(path)).status, 404, 'nothing was saved');

      const saved = await admin.put(path, modal(resellerId, { allowedIp: '127.0.0.1' }));
      t.equal(saved.status, 201);
      const access = saved.json<ApiAccessView>();
      t.match(access.clientId, /^[1-9]\d*$/, 'clientId: the decimal string of an integer');
      t.match(access.clientSecret, /^[A-Za-z0-9]{40}$/, 'a 40-character [A-Za-z0-9] secret');
      t.match(access.createdAt, ISO);
      t.match(access.updatedAt, ISO);
      t.same(Object.keys(access), ['resellerId', 'name', 'email', 'allowedIp', 'clientId', 'clientSecret', 'active', 'createdAt', 'updatedAt']);
      t.same(access, {
        resellerId,
        name: 'meu nome aqui',
        email: `meu_nome.${resellerId}@aqui.com.br`,
        allowedIp: ['127.0.0.1/32'],
        clientId: access.clientId,
        clientSecret: access.clientSecret,
        active: true,
        createdAt: access.createdAt,
        updatedAt: access.updatedAt,
      });

      const shown = await admin.get(path);
      t.equal(shown.status, 200);
      t.same(shown.json(), access, 'the modal opened again shows the same credentials');

      const credentials = {
        clientId: access.clientId,
        clientSecret: String(access.clientSecret),
        email: `Meu_Nome.${resellerId}@Aqui.com.br`,
        password: `senha-${resellerId}`,
      };
      const ok = await requestToken(publicUrl, credentials, { localAddress: '127.0.0.1' });
      t.equal(ok.status, 200, ok.text);
      t.match(ok.json(), {
        token_type: 'Bearer',
        expires_in: 3600,
        scope: '',
        access_token: /^[\w-]{22}\.[\w-]{43}$/,
        refresh_token: /^[\w-]{22}\.[\w-]{43}$/,
      });
      t.equal(ok.headers['cache-control'], 'no-store');
      const introspected = await introspect(ok.json<{ access_token: string }>().access_token);
      t.match(
        introspected.json(),
        { active: true, client_id: access.clientId, username: access.email, reseller_id: resellerId },
        'the token introspects',
      );

      const elsewhere = await requestToken(publicUrl, credentials, { localAddress: '127.0.0.2' });
      t.equal(elsewhere.status, 403);
      t.same(elsewhere.json(), unauthorizedClient('127.0.0.2'), 'names the address the server saw');
      t.equal(elsewhere.headers['cache-control'], 'no-store');

      const spoofed = await requestToken(publicUrl, credentials, { localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '127.0.0.1' } });
      t.equal(spoofed.status, 403, 'X-Forwarded-For from an untrusted peer is ignored');
      t.same(spoofed.json(), unauthorizedClient('127.0.0.2'));

      const wrongSecret = await requestToken(publicUrl, { ...credentials, clientSecret: 'x'.repeat(40) }, { localAddress: '127.0.0.2' });
      t.equal(wrongSecret.status, 401, 'an unauthenticated caller learns nothing about the networks');
      t.same(wrongSecret.json(), invalidClient);
    },
  );

  t.test('a password change revokes every token of the user; the same password again changes nothing', async (t) => {
    const { resellerId, access, body, credentials } = await configured();
    const before = await tokens(credentials);

    const same = await admin.put(`/admin/resellers/${resellerId}/api`, body);
    t.equal(same.status, 200);
    t.same(await isLive(before), { access: true, refresh: true }, 'resending the current password is no change');

    const changed = await admin.put(`/admin/resellers/${resellerId}/api`, { ...body, password: 'uma-senha-nova' });
    t.equal(changed.status, 200);
    const after = changed.json<ApiAccessView>();
    t.same({ ...after, updatedAt: access.updatedAt }, access, 'same client id and secret; only updatedAt moves');
    t.same(await isLive(before), { access: false, refresh: false }, 'access and refresh tokens revoked');

    const old = await requestToken(publicUrl, credentials);
    t.equal(old.status, 400);
    t.same(old.json(), invalidGrant, 'the old password fails');
    t.equal((await requestToken(publicUrl, { ...credentials, password: 'uma-senha-nova' })).status, 200, 'the new one works');

    const omitted = { name: body.name, email: body.email, allowedIp: body.allowedIp };
    const kept = await tokens({ ...credentials, password: 'uma-senha-nova' });
    t.equal((await admin.put(`/admin/resellers/${resellerId}/api`, omitted)).status, 200, 'password optional on update');
    t.same(await isLive(kept), { access: true, refresh: true }, 'absent = unchanged');
  });

  t.test('an e-mail change revokes the tokens (introspection names the user by e-mail); name and IP changes do not', async (t) => {
    const { resellerId, body, credentials } = await configured();
    const first = await tokens(credentials);

    const renamed = await admin.put(`/admin/resellers/${resellerId}/api`, { ...body, name: 'outro nome', allowedIp: ['127.0.0.1', '10.0.0.7/24'] });
    t.equal(renamed.status, 200);
    t.match(renamed.json(), { name: 'outro nome', allowedIp: ['127.0.0.1/32', '10.0.0.0/24'] });
    t.same(await isLive(first), { access: true, refresh: true });

    const email = `novo.${resellerId}@aqui.com.br`;
    const moved = await admin.put(`/admin/resellers/${resellerId}/api`, { ...body, email: email.toUpperCase() });
    t.equal(moved.status, 200);
    t.equal(moved.json().email, email, 'stored lower-cased');
    t.same(await isLive(first), { access: false, refresh: false });
    t.same((await requestToken(publicUrl, credentials)).json(), invalidGrant, 'the old e-mail no longer logs in');
    t.equal((await requestToken(publicUrl, { ...credentials, email })).status, 200);
  });

  t.test('rotating the secret makes the old one fail at once; the client id stays', async (t) => {
    const { resellerId, access, credentials } = await configured();
    const issued = await tokens(credentials);
    const res = await admin.post(`/admin/resellers/${resellerId}/api/secret`);
    t.equal(res.status, 200);
    const rotated = res.json<ApiAccessView>();
    t.match(rotated.clientSecret, /^[A-Za-z0-9]{40}$/);
    t.not(rotated.clientSecret, access.clientSecret);
    t.same({ ...rotated, clientSecret: access.clientSecret, updatedAt: access.updatedAt }, access);
    t.same((await admin.get(`/admin/resellers/${resellerId}/api`)).json(), rotated, 'GET shows the new secret');

    const old = await requestToken(publicUrl, credentials);
    t.equal(old.status, 401);
    t.same(old.json(), invalidClient);
    t.equal((await requestToken(publicUrl, { ...credentials, clientSecret: String(rotated.clientSecret) })).status, 200);
    t.same(
      await isLive(issued),
      { access: false, refresh: false },
      'a new secret is a cut-off: the tokens issued before it are revoked (docs/revocation.md)',
    );
  });

  t.test('switching the access off revokes everything at once; configuring again switches it on with the same credentials', async (t) => {
    const { resellerId, access, body, credentials } = await configured();
    const issued = await tokens(credentials);
    const path = `/admin/resellers/${resellerId}/api`;

    const off = await admin.delete(path);
    t.equal(off.status, 204);
    t.equal(off.text, '');
    t.same(await isLive(issued), { access: false, refresh: false });
    const shown = (await admin.get(path)).json<ApiAccessView>();
    t.same({ ...shown, updatedAt: access.updatedAt }, { ...access, active: false }, 'GET: active false, same credentials');
    t.same((await requestToken(publicUrl, credentials)).json(), invalidClient, 'a disabled client cannot authenticate');
    t.equal((await admin.delete(path)).status, 204, 'switching off twice is fine');

    const { password: _omitted, ...withoutPassword } = body;
    const on = await admin.put(path, withoutPassword);
    t.equal(on.status, 200);
    t.same({ ...on.json<ApiAccessView>(), updatedAt: access.updatedAt }, access, 'same client id and secret, active again');
    t.equal((await requestToken(publicUrl, credentials)).status, 200, 'the old credentials work again');
  });

  t.test('unknown reseller: 404 for GET, POST …/secret and DELETE', async (t) => {
    const notFound = (id: string) => ({ error: 'not_found', message: `No API access is configured for reseller ${id}.` });
    const id = uid();
    for (const res of [
      await admin.get(`/admin/resellers/${id}/api`),
      await admin.post(`/admin/resellers/${id}/api/secret`),
      await admin.delete(`/admin/resellers/${id}/api`),
    ]) {
      t.equal(res.status, 404);
      t.same(res.json(), notFound(id));
    }
  });

  t.test('409 when another reseller has the e-mail (any case); nothing changes, no token is revoked', async (t) => {
    const a = await configured();
    const b = await configured();
    const conflict = {
      error: 'conflict',
      message: 'The e-mail is already used by another reseller.',
      fields: { email: 'is already used by another reseller' },
    };
    const id = uid();
    const created = await admin.put(`/admin/resellers/${id}/api`, modal(id, { email: a.access.email.toUpperCase() }));
    t.equal(created.status, 409);
    t.same(created.json(), conflict);
    t.equal((await admin.get(`/admin/resellers/${id}/api`)).status, 404);

    const issued = await tokens(b.credentials);
    const updated = await admin.put(`/admin/resellers/${b.resellerId}/api`, { ...b.body, email: a.access.email, password: 'outra-senha-123' });
    t.equal(updated.status, 409);
    t.same(updated.json(), conflict);
    t.same(await isLive(issued), { access: true, refresh: true });
    t.equal((await requestToken(publicUrl, b.credentials)).status, 200, 'password unchanged');
    t.equal((await admin.put(`/admin/resellers/${a.resellerId}/api`, a.body)).status, 200, 'its own e-mail is no conflict');
  });

  t.test('validation: one 400 naming every bad field, path and body together', async (t) => {
    const res = await admin.put('/admin/resellers/bad!id/api', {
      name: '',
      email: 'not-an-email',
      password: 'short',
      allowedIp: ['10.0.0.1', '10.0.0.0/33'],
    });
    t.equal(res.status, 400);
    t.same(res.json(), {
      error: 'validation_failed',
      message: 'Invalid fields: resellerId, name, email, password, allowedIp',
      fields: {
        resellerId: 'must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"',
        name: 'must not be empty',
        email: 'must be an e-mail address',
        password: 'must be at least 8 characters',
        allowedIp: '"10.0.0.0/33": the prefix length must be from 0 to 32 for IPv4',
      },
    });

    const id = uid();
    const empty = await admin.put(`/admin/resellers/${id}/api`, {});
    t.same(empty.json(), {
      error: 'validation_failed',
      message: 'Invalid fields: name, email, allowedIp, password',
      fields: {
        name: 'is required',
        email: 'is required',
        allowedIp: 'is required',
        password: 'is required when the API access is first configured',
      },
    });
    const noPassword = await admin.put(`/admin/resellers/${id}/api`, { ...modal(id), password: undefined });
    t.equal(noPassword.status, 400);
    t.same(noPassword.json(), {
      error: 'validation_failed',
      message: 'Invalid field: password',
      fields: { password: 'is required when the API access is first configured' },
    });

    const types = await admin.put(`/admin/resellers/${id}/api`, { name: 7, email: ['x'], password: 12345678, allowedIp: { ip: '1' } });
    t.same(types.json().fields, {
      name: 'must be a string',
      email: 'must be a string',
      password: 'must be a string',
      allowedIp: 'must be a string or an array of strings',
    });
    const long = await admin.put(`/admin/resellers/${id}/api`, modal(id, { name: 'n'.repeat(201), password: 'p'.repeat(257) }));
    t.same(long.json().fields, { name: 'must be at most 200 characters', password: 'must be at most 256 characters' });
    for (const allowedIp of ['', ' , ', []]) {
      const res = await admin.put(`/admin/resellers/${id}/api`, modal(id, { allowedIp }));
      t.same(res.json().fields, { allowedIp: 'at least one IP address or CIDR block is required' }, JSON.stringify(allowedIp));
    }
    const notObject = await admin.put(`/admin/resellers/${id}/api`, 'meu nome');
    t.equal(notObject.status, 400);
    t.same(notObject.json().fields, { body: 'must be a JSON object' });
    const tooLong = await admin.get(`/admin/resellers/${'x'.repeat(65)}/api`);
    t.same(tooLong.json().fields, { resellerId: 'must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"' });
    t.equal((await admin.get(`/admin/resellers/${id}/api`)).status, 404, 'nothing was saved');
  });

  t.test('allowedIp: comma-separated string or array, IPv4/IPv6/CIDR, stored and returned normalised', async (t) => {
    const cases: [unknown, string[]][] = [
      ['10.0.0.7/24', ['10.0.0.0/24']],
      ['127.0.0.1', ['127.0.0.1/32']],
      ['::1', ['::1/128']],
      ['10.0.0.7/24, 127.0.0.1 ,::1', ['10.0.0.0/24', '127.0.0.1/32', '::1/128']],
      [
        ['2001:DB8::7/32', '192.168.123.0/24,10.1.1.1'],
        ['2001:db8::/32', '192.168.123.0/24', '10.1.1.1/32'],
      ],
      ['::ffff:10.0.0.1', ['10.0.0.1/32']],
      ['10.0.0.1, 10.0.0.1/32', ['10.0.0.1/32']],
    ];
    for (const [allowedIp, expected] of cases) {
      const { resellerId, access } = await configured({ allowedIp });
      t.same(access.allowedIp, expected, JSON.stringify(allowedIp));
      t.same((await admin.get(`/admin/resellers/${resellerId}/api`)).json().allowedIp, expected);
    }
  });

  t.test('GET /admin/resellers: newest first, opaque cursor, nextCursor null on the last page, no secrets', async (t) => {
    for (let i = 0; i < 3; i++) await configured();
    const rows = await ctx.services.db.prisma.reseller.findMany({
      orderBy: [{ createdAt: 'desc' }, { resellerId: 'desc' }],
      select: { resellerId: true },
    });
    t.ok(rows.length >= 3);

    const seen: string[] = [];
    let cursor = '';
    for (let page = 0; page < 100; page++) {
      const res = await admin.get(`/admin/resellers?cursor=${encodeURIComponent(cursor)}&limit=2`);
      t.equal(res.status, 200);
      const body = res.json<{ items: Record<string, unknown>[]; nextCursor: string | null }>();
      t.ok(body.items.length <= 2);
      for (const item of body.items) {
        t.same(Object.keys(item), ['resellerId', 'name', 'email', 'allowedIp', 'clientId', 'active', 'createdAt', 'updatedAt'], 'no secret');
        seen.push(String(item.resellerId));
      }
      if (body.nextCursor === null) break;
      cursor = body.nextCursor;
    }
    t.same(
      seen,
      rows.map((r) => r.resellerId),
      'every reseller once, newest createdAt first',
    );

    const first = (await admin.get('/admin/resellers')).json<{ items: unknown[]; nextCursor: string | null }>();
    t.equal(first.items.length, Math.min(20, rows.length), 'default limit 20');
    const whole = (await admin.get('/admin/resellers?limit=100')).json<{ items: unknown[]; nextCursor: string | null }>();
    t.equal(whole.nextCursor, null, 'a page holding everything is the last one');
    const newest = (await admin.get('/admin/resellers?limit=1')).json<{ items: ApiAccessView[] }>().items[0];
    const { clientSecret: _secret, ...shown } = (await admin.get(`/admin/resellers/${newest?.resellerId}/api`)).json<ApiAccessView>();
    t.same(newest, shown, 'a list item is the API-access object without the secret');

    const invalid = async (query: string, field: string, why: string) => {
      const res = await admin.get(`/admin/resellers?${query}`);
      t.equal(res.status, 400, query);
      t.same(res.json(), { error: 'validation_failed', message: `Invalid field: ${field}`, fields: { [field]: why } }, query);
    };
    await invalid('limit=0', 'limit', 'must be an integer from 1 to 100');
    await invalid('limit=101', 'limit', 'must be an integer from 1 to 100');
    await invalid('limit=2.5', 'limit', 'must be an integer from 1 to 100');
    await invalid('limit=abc', 'limit', 'must be an integer from 1 to 100');
    await invalid('cursor=garbage', 'cursor', 'is not a cursor returned by this API');
    await invalid(`cursor=${Buffer.from('["not a date","x"]').toString('base64url')}`, 'cursor', 'is not a cursor returned by this API');
    const both = await admin.get('/admin/resellers?cursor=garbage&limit=0');
    t.same(Object.keys(both.json().fields as object), ['cursor', 'limit'], 'both named');
  });

  t.test('a dump of the clients and users tables holds no secret and no password in plain text', async (t) => {
    const a = await configured();
    const b = await configured();
    const rotated = (await admin.post(`/admin/resellers/${b.resellerId}/api/secret`)).json<ApiAccessView>();
    await admin.put(`/admin/resellers/${b.resellerId}/api`, { ...b.body, password: 'a-segunda-senha-de-b' });
    const prisma = ctx.services.db.prisma;
    const dump = JSON.stringify([
      await prisma.$queryRawUnsafe('SELECT * FROM clients'),
      await prisma.$queryRawUnsafe('SELECT * FROM users'),
      await prisma.$queryRawUnsafe('SELECT * FROM resellers'),
    ]);
    t.ok(dump.includes(a.access.email), 'the dump is real (it holds the e-mails)');
    for (const secret of [
      a.credentials.clientSecret,
      b.credentials.clientSecret,
      String(rotated.clientSecret),
      a.credentials.password,
      b.credentials.password,
      'a-segunda-senha-de-b',
    ]) {
      t.notOk(dump.includes(secret), 'a secret or password in plain text');
    }
    const users = await prisma.$queryRawUnsafe<{ password_hash: string }[]>('SELECT password_hash FROM users');
    t.ok(
      users.every((u) => u.password_hash.startsWith('$argon2id$')),
      'passwords are argon2id hashes',
    );
  });

  t.test('the public port has no /admin routes: 404 with or without a token', async (t) => {
    for (const path of ['/admin/resellers', '/admin/resellers/6/api']) {
      const res = await request(`${publicUrl}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      t.equal(res.status, 404);
      t.same(res.json(), { error: 'not_found', message: `No route for GET ${path}` });
    }
    const put = await request(`${publicUrl}/admin/resellers/6/api`, {
      method: 'PUT',
      body: modal('6'),
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    t.equal(put.status, 404);
  });
});
