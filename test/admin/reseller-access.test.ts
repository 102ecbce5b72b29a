// The admin service layer's ordering guarantees (src/admin/reseller-access.ts): a change that cuts
// a user off revokes tokens before the database update (a token store outage fails the call
// before anything changed) and after it (a token issued in between does not survive); two first
// saves that race end as one create and one update; an imported hash-only secret is flagged.
import bcrypt from 'bcrypt';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import type { ApiAccessView } from '../../src/admin/views.js';
import { TEST_ADMIN_TOKEN, type TestApp, build, eachBackend } from '../helper.js';
import { failRevocationAfterCommit, tokenStoreDown } from '../token-store-outage.js';

const auth = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const storeDown = { error: 'service_unavailable', message: 'The token store is unavailable. Try again shortly.' };

eachBackend(t, async (t, backend) => {
  let ctx: TestApp;
  let adminApp: FastifyInstance;
  let seq = 0;

  t.before(async () => {
    ctx = await build(t, backend);
    adminApp = ctx.adminApp;
  });

  const put = (resellerId: string, payload: object) =>
    adminApp.inject({ method: 'PUT', url: `/admin/resellers/${resellerId}/api`, headers: auth, payload });
  const get = (resellerId: string) => adminApp.inject({ method: 'GET', url: `/admin/resellers/${resellerId}/api`, headers: auth });

  async function configured() {
    seq += 1;
    const resellerId = `order${seq}`;
    const body = { name: `Revenda ${seq}`, email: `order${seq}@revenda.example`, password: 'senha-original', allowedIp: '127.0.0.1' };
    const res = await put(resellerId, body);
    if (res.statusCode !== 201) throw new Error(res.body);
    return { resellerId, body, access: res.json<ApiAccessView>() };
  }

  const login = async (access: ApiAccessView, password: string) =>
    ctx.publicApp.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'password',
        client_id: access.clientId,
        client_secret: access.clientSecret,
        username: access.email,
        password,
        scope: '',
      },
    });

  t.test('token store down: password change, e-mail change and switching off fail with 503 before anything changed', async (t) => {
    const { resellerId, body, access } = await configured();
    const restore = await tokenStoreDown(ctx.services);
    try {
      for (const [what, res] of [
        ['password', await put(resellerId, { ...body, password: 'senha-nova-123' })],
        ['e-mail', await put(resellerId, { ...body, email: `moved.${resellerId}@revenda.example` })],
        ['switch off', await adminApp.inject({ method: 'DELETE', url: `/admin/resellers/${resellerId}/api`, headers: auth })],
      ] as const) {
        t.equal(res.statusCode, 503, what);
        t.same(res.json(), storeDown, what);
        t.equal(res.headers['retry-after'], '5');
      }
    } finally {
      await restore();
    }
    t.same((await get(resellerId)).json(), access, 'GET: unchanged and still active');
    const user = await ctx.services.users.findByEmail(body.email);
    t.ok(user && (await ctx.services.hasher.verify(user.passwordHash, 'senha-original')), 'the old password is still the password');
    t.equal((await login(access, 'senha-original')).statusCode, 200, 'and it still logs in');
  });

  t.test('a token issued while the update runs (a login that saw the old row) is revoked by the second revocation', async (t) => {
    const { resellerId, body, access } = await configured();
    const repository = ctx.services.resellers;
    const update = repository.update;
    let issuedMeanwhile: { access_token: string; refresh_token: string } | undefined;
    repository.update = async (id, changes) => {
      const res = await login(access, 'senha-original');
      issuedMeanwhile = res.json();
      return update(id, changes);
    };
    try {
      t.equal((await put(resellerId, { ...body, password: 'senha-nova-123' })).statusCode, 200);
    } finally {
      repository.update = update;
    }
    t.ok(issuedMeanwhile?.access_token, 'a token was issued between the first revocation and the update');
    t.equal(await ctx.services.tokenStore.findAccessToken(issuedMeanwhile?.access_token ?? ''), null);
    t.equal(await ctx.services.tokenStore.findRefreshToken(issuedMeanwhile?.refresh_token ?? ''), null);
  });

  t.test('the revocation after the commit fails (503): repeating the same call completes the cut-off', async (t) => {
    // Invariant (docs/revocation.md): once a cut-off has answered 2xx, no token from before it
    // works, even when an earlier attempt committed the change and then answered 503. Each case
    // issues a token between the first revocation and the commit (a login that saw the old row),
    // makes the revocation after the commit fail once, then repeats the call, which now changes
    // nothing in the database.
    const cases = [
      ['password', (body: Record<string, string>) => ({ ...body, password: 'senha-nova-123' })],
      ['e-mail', (body: Record<string, string>) => ({ ...body, email: `moved.${body.email}` })],
    ] as const;
    for (const [what, change] of cases) {
      const { resellerId, body, access } = await configured();
      const { tokenStore } = ctx.services;
      let issuedMeanwhile: { access_token: string } | undefined;
      const restore = failRevocationAfterCommit(ctx.services, async () => {
        issuedMeanwhile = (await login(access, 'senha-original')).json();
      });
      let first: Awaited<ReturnType<typeof put>>;
      try {
        first = await put(resellerId, change(body));
      } finally {
        restore();
      }
      t.equal(first.statusCode, 503, `${what}: the first call answers 503 after its commit`);
      t.ok(issuedMeanwhile?.access_token, `${what}: a token was issued between the first revocation and the commit`);
      const token = issuedMeanwhile?.access_token ?? '';
      t.not(await tokenStore.findAccessToken(token), null, `${what}: that token is still active while the cut-off is pending`);

      const again = await put(resellerId, change(body));
      t.equal(again.statusCode, 200, `${what}: the repeated call answers 200`);
      t.equal(await tokenStore.findAccessToken(token), null, `${what}: and no token from before it works`);
      const row = await ctx.services.db.prisma.reseller.findUniqueOrThrow({ where: { resellerId } });
      t.equal(row.cutOffPending, false, `${what}: nothing is left pending`);
      const once = await put(resellerId, change(body));
      t.equal(once.json().updatedAt, again.json().updatedAt, `${what}: the flag cleared without re-stamping updatedAt`);
    }
  });

  t.test('two first saves racing: one 201, one 200, one client', async (t) => {
    seq += 1;
    const resellerId = `race${seq}`;
    const body = { name: 'corrida', email: `race${seq}@revenda.example`, password: 'senha-da-corrida', allowedIp: '10.0.0.1' };
    const [a, b] = await Promise.all([put(resellerId, body), put(resellerId, { ...body, name: 'corrida 2' })]);
    t.same([a.statusCode, b.statusCode].sort(), [200, 201]);
    t.equal(a.json().clientId, b.json().clientId);
    t.equal(a.json().clientSecret, b.json().clientSecret);
    const rows = await ctx.services.db.prisma.reseller.count({ where: { resellerId } });
    t.equal(rows, 1);
  });

  t.test('the loser of that race (it read no row, then its insert conflicted) becomes an update', async (t) => {
    const { resellerId, body, access } = await configured();
    const repository = ctx.services.resellers;
    const find = repository.find;
    let calls = 0;
    repository.find = async (id) => {
      calls += 1;
      return calls === 1 ? null : find(id);
    };
    let res: Awaited<ReturnType<typeof put>>;
    try {
      res = await put(resellerId, { ...body, name: 'segunda gravação' });
    } finally {
      repository.find = find;
    }
    t.equal(res.statusCode, 200);
    t.same(res.json(), { ...access, name: 'segunda gravação', updatedAt: res.json().updatedAt });
  });

  t.test('a secret imported as a bcrypt hash cannot be shown: clientSecret null, secretRotationRequired true, until rotated', async (t) => {
    const { resellerId, access } = await configured();
    await ctx.services.db.prisma.client.update({
      where: { id: Number(access.clientId) },
      data: { secretCiphertext: null, secretKeyId: null, secretHash: await bcrypt.hash('imported-passport-secret', 4) },
    });
    const shown = await get(resellerId);
    t.equal(shown.statusCode, 200);
    const { clientSecret: _s, active, createdAt, updatedAt, ...rest } = access;
    t.same(shown.json(), { ...rest, clientSecret: null, secretRotationRequired: true, active, createdAt, updatedAt: shown.json().updatedAt });
    t.same(Object.keys(shown.json()).slice(5, 7), ['clientSecret', 'secretRotationRequired']);

    const rotated = await adminApp.inject({ method: 'POST', url: `/admin/resellers/${resellerId}/api/secret`, headers: auth });
    t.equal(rotated.statusCode, 200);
    t.match(rotated.json(), { clientSecret: /^[A-Za-z0-9]{40}$/ });
    t.notOk('secretRotationRequired' in rotated.json());
    const row = await ctx.services.db.prisma.client.findUniqueOrThrow({ where: { id: Number(access.clientId) } });
    t.equal(row.secretHash, null, 'the imported hash is gone for good');
  });

  t.test("every change announces 'clients' to the other instances", async (t) => {
    let heard = 0;
    ctx.services.events.subscribe('clients', () => {
      heard += 1;
    });
    const until = async (count: number, probe = false) => {
      for (let i = 0; i < 100 && heard < count; i++) {
        // Redis pub/sub subscribes asynchronously: probe until the subscription hears.
        if (probe) await ctx.services.events.publish('clients');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return heard >= count;
    };
    t.ok(await until(1, true), 'subscribed');
    heard = 0;
    const { resellerId, body } = await configured();
    t.ok(await until(1), 'create announced');
    await put(resellerId, { ...body, name: 'renamed' });
    t.ok(await until(2), 'update announced');
    await adminApp.inject({ method: 'POST', url: `/admin/resellers/${resellerId}/api/secret`, headers: auth });
    t.ok(await until(3), 'rotation announced');
    await adminApp.inject({ method: 'DELETE', url: `/admin/resellers/${resellerId}/api`, headers: auth });
    t.ok(await until(4), 'switching off announced');
  });
});
