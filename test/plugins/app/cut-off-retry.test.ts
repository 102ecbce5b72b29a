// Every instance retries the cut-offs whose revocation failed after their change was committed
// (src/plugins/app/cut-off-retry.ts). Invariant (docs/revocation.md): once the token store is
// back, a token from before a committed cut-off stops working within CUT_OFF_RETRY_INTERVAL,
// though nobody repeats the call that answered 503 — checked by introspection over real HTTP, on
// the embedded defaults and on PostgreSQL + Redis, and with two instances and an admin completing
// many pending cut-offs at once.
import type { Test } from 'tap';
import t from 'tap';
import type { ApiAccessView } from '../../../src/admin/views.js';
import { type ResourceServer, registerResourceServer } from '../../faults/requests.js';
import { type Backend, BACKENDS, type TestApp, adminInject, basic, build, eachBackend, passwordGrantBody } from '../../helper.js';
import { failRevocationAfterCommit } from '../../token-store-outage.js';

const INTERVAL_S = 0.2;
/** How long a completion may take once the store is back: many intervals, for a loaded 2-core machine. */
const BOUND_MS = 30 * INTERVAL_S * 1000;

async function waitFor(t: Test, what: string, condition: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > BOUND_MS) {
      t.fail(`${what}: not within ${BOUND_MS} ms`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - started;
}

/** A reseller's access, configured through the admin API, and a token issued to it. */
async function configuredWithToken(
  ctx: TestApp,
  resellerId: string,
): Promise<{ access: ApiAccessView; body: Record<string, string>; token: string }> {
  const body = { name: `Revenda ${resellerId}`, email: `${resellerId}@revenda.example`, password: 'senha-original', allowedIp: '127.0.0.1' };
  const created = await adminInject(ctx)('PUT', `/admin/resellers/${resellerId}/api`, body);
  if (created.statusCode !== 201) throw new Error(created.body);
  const access = created.json<ApiAccessView>();
  const issued = await ctx.publicApp.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: passwordGrantBody({ clientId: access.clientId, clientSecret: access.clientSecret ?? '', email: access.email, password: body.password }),
  });
  if (issued.statusCode !== 200) throw new Error(issued.body);
  return { access, body, token: issued.json().access_token };
}

/**
 * Password changes whose revocation after the commit fails as in a token store outage that starts
 * between the commit and that revocation. Each change commits (the store is back before the next);
 * revocations keep failing after the last until the function returned brings the store back.
 */
async function cutOffsLeftPending(t: Test, ctx: TestApp, bodies: Map<string, Record<string, string>>): Promise<() => void> {
  let storeBack = () => {};
  for (const [resellerId, body] of bodies) {
    storeBack();
    storeBack = failRevocationAfterCommit(ctx.services, async () => {});
    const res = await adminInject(ctx)('PUT', `/admin/resellers/${resellerId}/api`, newPassword(body));
    t.equal(res.statusCode, 503, `${resellerId}: the password change answers 503 after its commit`);
  }
  return storeBack;
}

async function introspect(publicUrl: string, rs: ResourceServer, token: string): Promise<{ active: boolean }> {
  const res = await fetch(`${publicUrl}/oauth/introspect`, {
    method: 'POST',
    headers: { authorization: basic(rs.clientId, rs.secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  if (res.status !== 200) throw new Error(`introspection answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { active: boolean };
}

/** The admin port's Prometheus text, over a real connection. */
async function metrics(ctx: TestApp): Promise<string> {
  const { adminUrl } = await ctx.listen();
  return (await fetch(`${adminUrl}/metrics`)).text();
}

const newPassword = (body: Record<string, string>) => ({ ...body, password: 'senha-nova-123' });

const pendingCount = async (ctx: TestApp) => (await ctx.services.resellers.pendingCutOffs()).length;

eachBackend(t, async (t, backend: Backend) => {
  t.test('a cut-off left pending by a 503 completes by itself once the token store is back', async (t) => {
    const ctx = await build(t, backend, { CUT_OFF_RETRY_INTERVAL: String(INTERVAL_S) });
    const rs = await registerResourceServer(ctx);
    const { publicUrl } = await ctx.listen();
    const { token, body } = await configuredWithToken(ctx, 'retry1');
    t.equal((await introspect(publicUrl, rs, token)).active, true, 'the token works before the cut-off');

    const storeBack = await cutOffsLeftPending(t, ctx, new Map([['retry1', body]]));
    // Several retry intervals pass with the store down: the mark stays, nothing is lost.
    await new Promise((resolve) => setTimeout(resolve, 5 * INTERVAL_S * 1000));
    t.equal(await pendingCount(ctx), 1, 'while the store is down the cut-off stays pending');
    t.match(await metrics(ctx), /^reseller_auth_cut_offs_pending 1$/m, 'and /metrics counts it');

    storeBack();
    const ms = await waitFor(t, 'the retry completes the cut-off', async () => (await pendingCount(ctx)) === 0);
    t.pass(`completed ${Math.round(ms)} ms after the store came back (interval ${INTERVAL_S * 1000} ms)`);
    t.equal((await introspect(publicUrl, rs, token)).active, false, 'the token from before the cut-off no longer works (real HTTP)');
    const row = await ctx.services.db.prisma.reseller.findUniqueOrThrow({ where: { resellerId: 'retry1' } });
    t.equal(row.cutOffPending, false, 'the mark is cleared');
    await waitFor(t, '/metrics counts none', async () => /^reseller_auth_cut_offs_pending 0$/m.test(await metrics(ctx)));
  });
});

// Two instances on one database and one Redis, both retrying every INTERVAL_S, and an admin
// repeating some of the calls meanwhile: every completer runs the same revocations, none of them
// fails, and no token from before its cut-off survives.
const realServers = BACKENDS.find((b) => b.name === 'postgres+redis');
t.test('two instances and an admin complete many pending cut-offs at once', { skip: realServers?.skip }, async (t) => {
  const a = await build(t, realServers as Backend, { CUT_OFF_RETRY_INTERVAL: '3600' });
  const ids = Array.from({ length: 12 }, (_, i) => `many${i}`);
  const tokens = new Map<string, string>();
  const bodies = new Map<string, Record<string, string>>();
  for (const id of ids) {
    const { token, body } = await configuredWithToken(a, id);
    tokens.set(id, token);
    bodies.set(id, body);
  }
  const storeBack = await cutOffsLeftPending(t, a, bodies);
  t.equal(await pendingCount(a), ids.length, 'every cut-off is pending');
  await storeBack();

  // The retrying instances start now, on the same storage, and an admin repeats every third call.
  const b = await build(t, realServers as Backend, { CUT_OFF_RETRY_INTERVAL: String(INTERVAL_S) }, { share: a });
  const c = await build(t, realServers as Backend, { CUT_OFF_RETRY_INTERVAL: String(INTERVAL_S) }, { share: a });
  const repeats = await Promise.all(
    ids.filter((_, i) => i % 3 === 0).map((id) => adminInject(a)('PUT', `/admin/resellers/${id}/api`, newPassword(bodies.get(id) ?? {}))),
  );
  t.same(
    repeats.map((r) => r.statusCode),
    repeats.map(() => 200),
    'the repeated calls answer 200 while the instances retry',
  );
  await waitFor(t, 'every pending cut-off completes', async () => (await pendingCount(a)) === 0);

  const rs = await registerResourceServer(a);
  for (const instance of [a, b, c]) {
    const { publicUrl } = await instance.listen();
    const survivors = [];
    for (const [id, token] of tokens) if ((await introspect(publicUrl, rs, token)).active) survivors.push(id);
    t.same(survivors, [], 'no token from before its cut-off is active, on any instance');
  }
});
