// Resource servers (docs/admin-api.md): registered with a client id from the resellers' integer
// sequence, listed without secrets, removed; never able to obtain tokens.
import t from 'tap';
import type { ApiAccessView } from '../../../src/admin/views.js';
import { TEST_ADMIN_TOKEN, type TestApp, build, eachBackend } from '../../helper.js';
import { type AdminClient, adminClient, invalidClient, request } from './real-http.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let admin: AdminClient;
  let publicUrl: string;

  t.before(async () => {
    ctx = await build(t, backend);
    const urls = await ctx.listen();
    publicUrl = urls.publicUrl;
    admin = adminClient(urls.adminUrl, TEST_ADMIN_TOKEN);
  });

  const configureReseller = async (resellerId: string) => {
    const res = await admin.put(`/admin/resellers/${resellerId}/api`, {
      name: resellerId,
      email: `${resellerId}@revenda.example`,
      password: 'senha-da-revenda',
      allowedIp: '127.0.0.0/8',
    });
    return res.json<ApiAccessView>();
  };

  t.test("register → 201 with credentials; its client id comes from the same sequence as the resellers' clients", async (t) => {
    const before = await configureReseller('rs-seq-a');
    const res = await admin.post('/admin/resource-servers', { name: '  DBS API  ' });
    t.equal(res.status, 201);
    const server = res.json<{ id: string; name: string; clientId: string; clientSecret: string }>();
    t.same(Object.keys(server), ['id', 'name', 'clientId', 'clientSecret']);
    t.match(server, { id: UUID, name: 'DBS API', clientId: /^[1-9]\d*$/, clientSecret: /^[A-Za-z0-9]{40}$/ });
    const after = await configureReseller('rs-seq-b');
    t.ok(Number(before.clientId) < Number(server.clientId) && Number(server.clientId) < Number(after.clientId), 'one integer sequence');

    const listed = (await admin.get('/admin/resource-servers')).json<{ items: Record<string, unknown>[] }>();
    const item = listed.items.find((i) => i.id === server.id);
    t.same(Object.keys(item ?? {}), ['id', 'name', 'clientId', 'createdAt'], 'listed without its secret');
    t.match(item, { id: server.id, name: 'DBS API', clientId: server.clientId, createdAt: /^\d{4}-\d\d-\d\dT/ });
  });

  t.test('a resource server can never obtain tokens: 401 invalid_client, whatever it sends', async (t) => {
    const server = (await admin.post('/admin/resource-servers', { name: 'DBS API' })).json<{ clientId: string; clientSecret: string }>();
    const reseller = await configureReseller('rs-tokens');
    const attempts = [
      {
        body: {
          grant_type: 'password',
          client_id: server.clientId,
          client_secret: server.clientSecret,
          username: reseller.email,
          password: 'senha-da-revenda',
          scope: '',
        },
      },
      { body: { grant_type: 'refresh_token', client_id: server.clientId, client_secret: server.clientSecret, refresh_token: 'x' } },
      { body: { grant_type: 'client_credentials', client_id: server.clientId, client_secret: server.clientSecret } },
      {
        body: { grant_type: 'password', username: reseller.email, password: 'senha-da-revenda', scope: '' },
        headers: { authorization: `Basic ${Buffer.from(`${server.clientId}:${server.clientSecret}`).toString('base64')}` },
      },
    ];
    for (const attempt of attempts) {
      const res = await request(`${publicUrl}/oauth/token`, { method: 'POST', ...attempt });
      t.equal(res.status, 401, String(attempt.body.grant_type));
      t.same(res.json(), invalidClient);
    }
  });

  t.test('remove → 204, gone from the list, can no longer introspect; unknown or malformed id → 404', async (t) => {
    const server = (await admin.post('/admin/resource-servers', { name: 'to be removed' })).json<{
      id: string;
      clientId: string;
      clientSecret: string;
    }>();
    const introspect = () =>
      request(`${publicUrl}/oauth/introspect`, {
        method: 'POST',
        body: { token: 'any-token' },
        headers: { authorization: `Basic ${Buffer.from(`${server.clientId}:${server.clientSecret}`).toString('base64')}` },
      });
    // The introspection endpoint hears of changes by event (asynchronous over Redis): wait, bounded.
    const introspectsWith = async (status: number) => {
      let last = (await introspect()).status;
      for (let i = 0; i < 100 && last !== status; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        last = (await introspect()).status;
      }
      return last;
    };
    t.equal(await introspectsWith(200), 200, 'registered: it may introspect');
    const removed = await admin.delete(`/admin/resource-servers/${server.id}`);
    t.equal(removed.status, 204);
    t.equal(removed.text, '');
    const listed = (await admin.get('/admin/resource-servers')).json<{ items: { id: string }[] }>();
    t.notOk(listed.items.some((i) => i.id === server.id));
    t.equal(await introspectsWith(401), 401, 'removed: it may not');
    for (const id of [server.id, 'not-a-uuid']) {
      const res = await admin.delete(`/admin/resource-servers/${id}`);
      t.equal(res.status, 404, id);
      t.same(res.json(), { error: 'not_found', message: `No resource server ${id}.` });
    }
  });

  t.test('validation: name required, 1 to 200 characters', async (t) => {
    const cases: [unknown, string][] = [
      [{}, 'is required'],
      [{ name: '   ' }, 'must not be empty'],
      [{ name: 'n'.repeat(201) }, 'must be at most 200 characters'],
      [{ name: 42 }, 'must be a string'],
    ];
    for (const [body, why] of cases) {
      const res = await admin.post('/admin/resource-servers', body);
      t.equal(res.status, 400, JSON.stringify(body).slice(0, 40));
      t.same(res.json(), { error: 'validation_failed', message: 'Invalid field: name', fields: { name: why } });
    }
  });

  t.test("registering and removing announce 'resource-servers' (the introspection endpoint's credential cache reloads)", async (t) => {
    let heard = 0;
    ctx.services.events.subscribe('resource-servers', () => {
      heard += 1;
    });
    const until = async (count: number, probe = false) => {
      for (let i = 0; i < 100 && heard < count; i++) {
        // Redis pub/sub subscribes asynchronously: probe until the subscription hears.
        if (probe) await ctx.services.events.publish('resource-servers');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return heard >= count;
    };
    t.ok(await until(1, true), 'subscribed');
    heard = 0;
    const server = (await admin.post('/admin/resource-servers', { name: 'announced' })).json<{ id: string }>();
    t.ok(await until(1), 'registration announced');
    await admin.delete(`/admin/resource-servers/${server.id}`);
    t.ok(await until(2), 'removal announced');
  });
});
