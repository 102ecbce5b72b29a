// docs/revocation.md, "Resource servers": once DELETE /admin/resource-servers/{id} answered 204,
// no instance accepts the removed resource server's credentials: not the one that served the
// call, not another whose change notification was lost, not one that cannot reach PostgreSQL.
// Three instances share one PostgreSQL and one Redis, checking every RELOAD_INTERVAL_S; the
// embedded default (one instance) is checked too.
import net from 'node:net';
import t, { type Test } from 'tap';
import { generateToken } from '../../src/security/secret-box.js';
import { BACKENDS, NO_STORE, TEST_ADMIN_TOKEN, type TestApp, basic, build, unavailableBody } from '../helper.js';

const RELOAD_INTERVAL_S = 0.5;
const env = { RESOURCE_SERVERS_RELOAD_INTERVAL: String(RELOAD_INTERVAL_S) };
const embedded = BACKENDS.find((b) => b.name === 'embedded')!;
const shared = BACKENDS.find((b) => b.name === 'postgres+redis')!;

interface Registered {
  id: string;
  auth: string;
}

async function register(app: TestApp, name: string): Promise<Registered> {
  const res = await app.adminApp.inject({
    method: 'POST',
    url: '/admin/resource-servers',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    payload: { name },
  });
  const body = res.json<{ id: string; clientId: string; clientSecret: string }>();
  return { id: body.id, auth: basic(body.clientId, body.clientSecret) };
}

const remove = (app: TestApp, id: string) =>
  app.adminApp.inject({ method: 'DELETE', url: `/admin/resource-servers/${id}`, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });

const introspect = (app: TestApp, authorization: string) =>
  app.publicApp.inject({ method: 'POST', url: '/oauth/introspect', headers: { authorization }, payload: { token: generateToken() } });

/** Polls every 20 ms until `condition` holds, or fails after `ms`. */
async function within(ms: number, what: string, condition: () => Promise<boolean>): Promise<void> {
  const start = performance.now();
  while (!(await condition())) {
    if (performance.now() - start > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every instance accepts `rs` (a registration is announced: this takes one reload at most). */
async function acceptedEverywhere(apps: TestApp[], rs: Registered): Promise<void> {
  for (const app of apps) await within(5000, 'registration seen', async () => (await introspect(app, rs.auth)).statusCode === 200);
}

/** Change notifications from `app` lost, as when a Redis pub/sub message never arrives, until undone. */
function loseNotifications(app: TestApp): () => void {
  const events = app.services.events;
  const publish = events.publish;
  events.publish = async () => {};
  return () => {
    events.publish = publish;
  };
}

/**
 * A TCP relay to PostgreSQL whose cut() makes the database unreachable for whoever connects
 * through it (open connections reset, new ones refused at once) and whose restore() ends that.
 */
async function cuttableRelay(t: Test, databaseUrl: string) {
  const target = new URL(databaseUrl);
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return client.destroy();
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    url: url.toString(),
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      cut = false;
    },
  };
}

t.test('embedded default: right after the 204 the removed resource server gets 401', { skip: embedded.skip }, async (t) => {
  const app = await build(t, embedded, env);
  const rs = await register(app, 'Doomed API');
  const other = await register(app, 'Staying API');
  t.equal((await introspect(app, rs.auth)).statusCode, 200, 'accepted before');
  const removed = await remove(app, rs.id);
  t.equal(removed.statusCode, 204, 'removed');
  const after = await introspect(app, rs.auth);
  t.equal(after.statusCode, 401, 'refused at once');
  t.equal(after.json().error, 'invalid_client');
  t.equal((await introspect(app, other.auth)).statusCode, 200, 'another resource server is unaffected');
  t.equal((await remove(app, rs.id)).statusCode, 404, 'removing it again: 404');
});

t.test('instances sharing PostgreSQL and Redis', { skip: shared.skip }, async (t) => {
  const a = await build(t, shared, env);
  const relay = await cuttableRelay(t, a.config.databaseUrl as string);
  const b = await build(t, shared, env, { share: a });
  // C reaches PostgreSQL through the relay, so the test can take the database away from C alone.
  const c = await build(t, shared, { ...env, DATABASE_URL: relay.url }, { share: a });
  const apps = [a, b, c];
  const staying = await register(a, 'Staying API');
  await acceptedEverywhere(apps, staying);

  t.test('a lost notification: the 204 comes only once every instance refuses the credentials', async (t) => {
    const rs = await register(a, 'Unannounced API');
    await acceptedEverywhere(apps, rs);
    t.teardown(loseNotifications(a));
    const started = performance.now();
    const removed = await remove(a, rs.id);
    const took = performance.now() - started;
    t.equal(removed.statusCode, 204, `removed (answered after ${took.toFixed(0)} ms)`);
    // In parallel: each instance is asked right after the 204, none given time to catch up.
    const answers = await Promise.all(apps.map((app) => introspect(app, rs.auth)));
    t.same(
      answers.map((r) => r.statusCode),
      [401, 401, 401],
      'A, B and C refuse it right after the 204',
    );
    const bound = a.services.resourceServerCredentials.trustBoundMs;
    t.ok(took >= bound, `the call waited out the freshness bound (${bound} ms)`);
    t.same(
      (await Promise.all(apps.map((app) => introspect(app, staying.auth)))).map((r) => r.statusCode),
      [200, 200, 200],
      'another resource server is unaffected everywhere',
    );
  });

  t.test('stochastic: introspections looping on every instance while the admin removes; none succeeds after the 204', async (t) => {
    const urls = await Promise.all(apps.map(async (app) => (await app.listen()).publicUrl));
    for (let trial = 0; trial < 4; trial++) {
      const lost = trial % 2 === 0;
      const rs = await register(a, `Looped API ${trial}`);
      await acceptedEverywhere(apps, rs);
      const restore = lost ? loseNotifications(a) : () => {};
      let acknowledgedAt = Number.POSITIVE_INFINITY;
      let stop = false;
      const after = { ok: 0, refused: 0, other: 0 };
      let before = 0;
      // Real HTTP (keep-alive: the remembered-header path of credential-cache.ts is exercised too).
      const loop = async (url: string) => {
        while (!stop) {
          const sentAt = performance.now();
          const res = await fetch(`${url}/oauth/introspect`, {
            method: 'POST',
            headers: { authorization: rs.auth, 'content-type': 'application/json' },
            body: JSON.stringify({ token: generateToken() }),
          });
          await res.arrayBuffer();
          if (sentAt < acknowledgedAt) {
            if (res.status === 200) before++;
            continue;
          }
          if (res.status === 200) after.ok++;
          else if (res.status === 401) after.refused++;
          else after.other++;
        }
      };
      const loops = urls.flatMap((url) => [loop(url), loop(url)]);
      // Let the loops run a moment first, so the removal lands among them.
      await within(5000, 'loops running', async () => before >= 6);
      const removed = await remove(a, rs.id);
      acknowledgedAt = performance.now();
      // Requests sent after the 204, on every instance, for a while.
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await Promise.all(loops);
      restore();
      t.equal(removed.statusCode, 204, `trial ${trial} (${lost ? 'notification lost' : 'notified'}): removed`);
      t.equal(after.ok, 0, `trial ${trial}: no success after the 204 (${after.refused} refused, ${before} accepted before)`);
      t.ok(after.refused > 0, `trial ${trial}: requests were sent after the 204`);
      t.equal(after.other, 0, `trial ${trial}: nothing but 401 after the 204`);
    }
  });

  t.test(
    'an instance that cannot reach PostgreSQL: keeps answering, then 503 (never 200) once a removal it cannot load is acknowledged',
    async (t) => {
      const rs = await register(a, 'Partitioned API');
      await acceptedEverywhere(apps, rs);
      relay.cut();
      t.teardown(() => relay.restore());
      // Three bounds with no database: nothing was removed, so C's cache is still provably current.
      const bound = c.services.resourceServerCredentials.trustBoundMs;
      await new Promise((r) => setTimeout(r, 3 * bound));
      t.equal((await introspect(c, rs.auth)).statusCode, 200, 'C, database unreachable, nothing removed: still answering');

      const removed = await remove(a, rs.id);
      t.equal(removed.statusCode, 204, 'removed on A');
      const onC = await introspect(c, rs.auth);
      t.equal(onC.statusCode, 503, 'C, right after the 204: 503, not 200');
      t.same(onC.json(), unavailableBody('database'), 'whole body');
      t.match(onC.headers, { ...NO_STORE, 'retry-after': '5' }, 'Retry-After and no-store');
      t.equal((await introspect(c, staying.auth)).statusCode, 503, 'C: every resource server (it can prove nothing current)');
      t.equal((await introspect(b, rs.auth)).statusCode, 401, 'B: 401');
      t.equal((await introspect(b, staying.auth)).statusCode, 200, 'B: the other resource server still works');

      relay.restore();
      await within(15_000, 'C recovers', async () => (await introspect(c, staying.auth)).statusCode === 200);
      t.equal((await introspect(c, rs.auth)).statusCode, 401, 'C, database back: the removed one 401, the other 200');
    },
  );
});
