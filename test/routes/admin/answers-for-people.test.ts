// The admin API as an admin meets it, over real connections: a field the API does not have is
// refused by name (a typo must not leave an admin believing an IP restriction was set), every
// refusal is a sentence about the field, no answer may be kept by a cache (they carry secrets),
// and a change that changes nothing writes nothing: updatedAt keeps its moment.
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import type { ApiAccessView } from '../../../src/admin/views.js';
import { TEST_ADMIN_TOKEN, type TestApp, build, eachBackend } from '../../helper.js';
import { type AdminClient, type RealResponse, adminClient, request } from './real-http.js';

const uid = () => `r${randomBytes(4).toString('hex')}`;
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

const modal = (resellerId: string, overrides: Record<string, unknown> = {}) => ({
  name: 'meu nome aqui',
  email: `api.${resellerId}@revenda.example`,
  password: `senha-${resellerId}`,
  allowedIp: '192.168.123.0/24',
  ...overrides,
});

/** Until the clock has moved past `iso` (a few ms), so that a new stamp could not equal it. */
async function clockPast(iso: string): Promise<void> {
  const stamp = Date.parse(iso);
  while (Date.now() <= stamp + 5) await new Promise((resolve) => setImmediate(resolve));
}

function assertValidation(t: Test, res: RealResponse, fields: Record<string, string>, what: string): void {
  const names = Object.keys(fields);
  t.equal(res.status, 400, `${what}: 400`);
  t.same(
    res.json(),
    { error: 'validation_failed', message: `Invalid ${names.length === 1 ? 'field' : 'fields'}: ${names.join(', ')}`, fields },
    `${what}: whole body`,
  );
  t.match(res.headers, NO_STORE, `${what}: no-store headers`);
}

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let adminUrl: string;
  let admin: AdminClient;

  t.before(async () => {
    ctx = await build(t, backend);
    ({ adminUrl } = await ctx.listen());
    admin = adminClient(adminUrl, TEST_ADMIN_TOKEN);
  });

  t.test('a field the API does not have is refused by name, with the field it probably meant; nothing is saved', async (t) => {
    const id = uid();
    const { allowedIp, ...rest } = modal(id);
    assertValidation(
      t,
      await admin.put(`/admin/resellers/${id}/api`, { ...rest, allowed_ip: allowedIp }),
      { allowedIp: 'is required', allowed_ip: 'is not a known field; did you mean "allowedIp"?' },
      'allowed_ip instead of allowedIp',
    );
    t.equal((await admin.get(`/admin/resellers/${id}/api`)).status, 404, 'nothing was configured');

    t.equal((await admin.put(`/admin/resellers/${id}/api`, modal(id))).status, 201, 'configured');
    const before = (await admin.get(`/admin/resellers/${id}/api`)).json<ApiAccessView>();
    assertValidation(
      t,
      await admin.put(`/admin/resellers/${id}/api`, { ...modal(id, { allowedIp: '10.0.0.0/8' }), emial: 'x@y.example', allowed_ip: '0.0.0.0/0' }),
      { emial: 'is not a known field; did you mean "email"?', allowed_ip: 'is not a known field; did you mean "allowedIp"?' },
      'valid fields plus two unknown ones',
    );
    t.same((await admin.get(`/admin/resellers/${id}/api`)).json(), before, 'the access is unchanged, the valid allowedIp too');

    assertValidation(
      t,
      await admin.post('/admin/resource-servers', { name: 'DBS API', secret: 'mine' }),
      { secret: 'is not a known field (the fields are name)' },
      'a resource server with a secret of its own',
    );
    t.same((await admin.get('/admin/resource-servers')).json(), { items: [] }, 'no resource server was registered');
  });

  t.test('what the validator would say is said about the field instead', async (t) => {
    assertValidation(
      t,
      await admin.delete(`/admin/resource-servers/${'a'.repeat(65)}`),
      { id: 'must be at most 64 characters' },
      'a 65-character resource server id',
    );
    const id = uid();
    assertValidation(t, await admin.put(`/admin/resellers/${id}/api`, [modal(id)]), { body: 'must be a JSON object' }, 'an array body');
    assertValidation(
      t,
      await admin.put(`/admin/resellers/${id}/api`, null),
      { name: 'is required', email: 'is required', allowedIp: 'is required', password: 'is required when the API access is first configured' },
      'a JSON null body',
    );
    for (const res of [await admin.put(`/admin/resellers/${id}/api`, modal(id, { name: ['a'] })), await admin.get('/admin/resellers?limit=x')]) {
      t.notMatch(res.text, /Invalid input|expected \w+, received|Too (big|small)|Unrecognized/, 'no validator wording');
    }
  });

  t.test('RFC 9111 §5.2.2.5: every admin answer, secrets and errors alike, carries no-store', async (t) => {
    const id = uid();
    const answers: [string, RealResponse][] = [
      ['PUT (201, with clientSecret)', await admin.put(`/admin/resellers/${id}/api`, modal(id))],
      ['PUT (200, with clientSecret)', await admin.put(`/admin/resellers/${id}/api`, modal(id, { name: 'outro nome' }))],
      ['GET (with clientSecret)', await admin.get(`/admin/resellers/${id}/api`)],
      ['POST …/secret (with the new clientSecret)', await admin.post(`/admin/resellers/${id}/api/secret`)],
      ['POST /admin/resource-servers (with its clientSecret)', await admin.post('/admin/resource-servers', { name: 'DBS API' })],
      ['GET /admin/resellers', await admin.get('/admin/resellers')],
      ['404', await admin.get(`/admin/resellers/${uid()}/api`)],
      ['401', await request(`${adminUrl}/admin/resellers/${id}/api`)],
    ];
    t.match(answers[0]?.[1].json(), { clientSecret: /^[A-Za-z0-9]{40}$/ }, 'the first answer carries the secret');
    for (const [what, res] of answers) t.match(res.headers, NO_STORE, what);
  });

  t.test('a save that changes nothing and a repeated switch-off answer the current state and keep updatedAt', async (t) => {
    const id = uid();
    const created = (await admin.put(`/admin/resellers/${id}/api`, modal(id))).json<ApiAccessView>();
    await clockPast(created.updatedAt);
    // The panel saves the form as it was, the current password included.
    const same = await admin.put(`/admin/resellers/${id}/api`, modal(id));
    t.equal(same.status, 200);
    t.same(same.json(), created, 'the same access, updatedAt included');
    const { password: _unchanged, ...withoutPassword } = modal(id);
    t.same((await admin.put(`/admin/resellers/${id}/api`, withoutPassword)).json(), created, 'without the password: the same');

    t.equal((await admin.delete(`/admin/resellers/${id}/api`)).status, 204, 'switched off');
    const off = (await admin.get(`/admin/resellers/${id}/api`)).json<ApiAccessView>();
    t.equal(off.active, false);
    t.not(off.updatedAt, created.updatedAt, 'switching off is a change: a new updatedAt');
    await clockPast(off.updatedAt);
    t.equal((await admin.delete(`/admin/resellers/${id}/api`)).status, 204, 'switched off again: still 204');
    t.same((await admin.get(`/admin/resellers/${id}/api`)).json(), off, 'nothing changed, updatedAt included');

    const on = await admin.put(`/admin/resellers/${id}/api`, modal(id));
    t.equal(on.status, 200, 'the same save on a switched-off access switches it on');
    t.equal(on.json<ApiAccessView>().active, true);
    t.not(on.json<ApiAccessView>().updatedAt, off.updatedAt, 'a change: a new updatedAt');
  });
});
