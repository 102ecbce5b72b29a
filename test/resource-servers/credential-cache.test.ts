// The resource-server credential cache (src/resource-servers/credential-cache.ts) on its own: what
// it answers, when it reloads, how long it is trusted (without Redis: as long as loads succeed;
// with the registry marker: also while only the database is down, unless a removal bumped it),
// and that a cut-off answers only once that trust has run out everywhere. Over real instances:
// test/resource-servers/removal-invariant.test.ts.
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { DependencyUnavailableError } from '../../src/errors.js';
import { createLocalEvents } from '../../src/events.js';
import type { ResourceServer, ResourceServersRepository } from '../../src/repositories/resource-servers-repository.js';
import {
  RELOAD_WAIT_MS,
  type ResourceServerCredentials,
  createResourceServerCredentials,
  resourceServerSecrets,
} from '../../src/resource-servers/credential-cache.js';
import type { RegistryVersion } from '../../src/resource-servers/registry-version.js';
import { SecretBox } from '../../src/security/secret-box.js';

type Row = { clientId: string; secret: string };

/** A load function whose rows, failures and delays the test controls, counting its calls. */
function fakeDatabase(initial: Row[]) {
  const db = {
    rows: initial,
    calls: 0,
    fail: false,
    /** While set, loads wait for it. */
    gate: undefined as Promise<void> | undefined,
    async load(): Promise<Row[]> {
      db.calls += 1;
      const snapshot = [...db.rows];
      if (db.gate) await db.gate;
      if (db.fail) throw new Error('database unavailable');
      return snapshot;
    },
  };
  return db;
}

const gate = () => {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
};

const header = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** A request on a connection of its own: the full check, nothing remembered. */
const verify = (cache: ResourceServerCredentials, id: string, secret: string) => cache.verifyAuthorization(header(id, secret), {});

/** The registry marker as Redis holds it, with an outage switch, counting bumps. */
function fakeMarker() {
  const marker = {
    value: 'v0',
    bumps: 0,
    down: false,
    async read() {
      if (marker.down) throw new DependencyUnavailableError('token store', new Error('connection refused'));
      return marker.value;
    },
    async bump() {
      if (marker.down) throw new DependencyUnavailableError('token store', new Error('connection refused'));
      marker.bumps += 1;
      marker.value = `v${marker.bumps}`;
    },
  };
  return marker;
}

async function setup(
  t: Test,
  rows: Row[],
  reloadIntervalMs = 60_000,
  extra: { version?: RegistryVersion; trustMarginMs?: number; exclusive?: boolean } = {},
) {
  const db = fakeDatabase(rows);
  const events = createLocalEvents();
  const errors: string[] = [];
  const cache = await createResourceServerCredentials({
    load: () => db.load(),
    events,
    reloadIntervalMs,
    ...extra,
    onError: (err, context) => errors.push(`${context}: ${(err as Error).message}`),
  });
  t.teardown(() => cache.close());
  return { db, events, errors, cache };
}

t.test('answers from memory: the right secret only, compared as SHA-256 digests', async (t) => {
  const { cache, db } = await setup(t, [{ clientId: '7', secret: 's3cret' }]);
  t.equal(verify(cache, '7', 's3cret'), true, 'right secret');
  t.equal(verify(cache, '7', 's3cret '), false, 'wrong secret');
  t.equal(verify(cache, '8', 's3cret'), false, 'unknown client id');
  t.equal(verify(cache, '7', ''), false, 'empty secret');
  t.equal(cache.size, 1, 'one resource server');
  t.equal(db.calls, 1, 'loaded once at start, never per request');
});

t.test('a Basic header that verified on a connection is recognised there until the credentials change', async (t) => {
  const { cache, db, events } = await setup(t, [
    { clientId: '7', secret: 's3cret' },
    { clientId: '8', secret: 'other' },
  ]);
  const connection = {};
  t.equal(cache.verifyAuthorization(header('7', 's3cret'), connection), true, 'verified in full the first time');
  t.equal(cache.verifyAuthorization(header('7', 's3cret'), connection), true, 'recognised the second time');
  t.equal(cache.verifyAuthorization(header('7', 's3creT'), connection), false, 'one character off, same length: refused');
  t.equal(cache.verifyAuthorization(header('8', 'other'), connection), true, 'another server on the same connection: verified in full');
  t.equal(cache.verifyAuthorization(header('7', 's3cret'), {}), true, 'another connection: verified in full');
  t.equal(cache.verifyAuthorization(header('7', 'wrong'), {}), false, 'a wrong secret on a fresh connection');
  for (const bad of [undefined, '', 'Bearer abc', 'Basic', 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`]) {
    t.equal(cache.verifyAuthorization(bad, connection), false, `refused: ${JSON.stringify(bad)}`);
  }

  // Rotation: the database now holds another secret for client 7.
  t.equal(cache.verifyAuthorization(header('7', 's3cret'), connection), true);
  db.rows = [{ clientId: '7', secret: 'rotated' }];
  await events.publish('resource-servers');
  t.equal(await cache.verifyAuthorization(header('7', 's3cret'), connection), false, 'the remembered header is refused after the reload');
  t.equal(cache.verifyAuthorization(header('7', 'rotated'), connection), true, 'the new secret is accepted');
  t.equal(cache.verifyAuthorization(header('8', 'other'), connection), false, 'a removed server is refused');
});

t.test('after a change notification, the next request waits for the reload and sees the change', async (t) => {
  const { cache, db, events } = await setup(t, [{ clientId: '7', secret: 'old' }]);
  const g = gate();
  db.gate = g.promise;
  db.rows = [{ clientId: '7', secret: 'new' }];
  await events.publish('resource-servers');
  const pending = verify(cache, '7', 'old');
  t.type(pending, Promise, 'the request waits while the reload runs');
  g.open();
  db.gate = undefined;
  t.equal(await pending, false, 'and is answered from the new credentials');
  t.equal(verify(cache, '7', 'new'), true, 'synchronous again afterwards');
});

t.test('notifications during a reload coalesce into exactly one more reload', async (t) => {
  const { cache, db, events } = await setup(t, [{ clientId: '7', secret: 'a' }]);
  const g = gate();
  db.gate = g.promise;
  for (let i = 0; i < 5; i++) await events.publish('resource-servers');
  db.rows = [{ clientId: '7', secret: 'b' }];
  g.open();
  db.gate = undefined;
  await cache.reload();
  t.equal(db.calls, 3, 'start, the running reload, one more for everything that arrived meanwhile');
  t.equal(await verify(cache, '7', 'b'), true, 'the last state wins');
});

t.test('a failing database keeps the last credentials in force and is reported', async (t) => {
  const { cache, db, events, errors } = await setup(t, [{ clientId: '7', secret: 'kept' }]);
  db.fail = true;
  await events.publish('resource-servers');
  t.equal(await verify(cache, '7', 'kept'), true, 'introspection keeps working while PostgreSQL is down');
  t.match(errors, [/reload after a change failed: database unavailable/]);
  await t.rejects(cache.reload(), /database unavailable/, 'a direct reload says so');
});

t.test('a hanging database delays requests by at most RELOAD_WAIT_MS', async (t) => {
  const { cache, db, events } = await setup(t, [{ clientId: '7', secret: 'kept' }]);
  const g = gate();
  db.gate = g.promise;
  t.teardown(() => g.open());
  await events.publish('resource-servers');
  // The cache's own timer is unref'd (it must not hold a closing process open): hold this one open.
  const keepAlive = setTimeout(() => {}, RELOAD_WAIT_MS + 2000);
  const start = performance.now();
  t.equal(await verify(cache, '7', 'kept'), true, 'answered from the last credentials');
  clearTimeout(keepAlive);
  const waited = performance.now() - start;
  t.ok(waited >= RELOAD_WAIT_MS - 50 && waited < RELOAD_WAIT_MS + 1000, `waited ${waited.toFixed(0)} ms (bound ${RELOAD_WAIT_MS} ms)`);
  t.equal(verify(cache, '7', 'kept'), true, 'later requests do not wait again');
});

t.test('without any notification, the periodic reload picks changes up', async (t) => {
  const { cache, db } = await setup(t, [{ clientId: '7', secret: 'a' }], 100);
  db.rows = [];
  const start = performance.now();
  while (verify(cache, '7', 'a') === true && performance.now() - start < 2000) await new Promise((r) => setTimeout(r, 20));
  t.equal(verify(cache, '7', 'a'), false, `removed after ${(performance.now() - start).toFixed(0)} ms with a 100 ms interval`);
});

t.test('resourceServerSecrets: a secret sealed under another SECRET_KEY is skipped and reported, not fatal', async (t) => {
  const box = new SecretBox(randomBytes(32));
  const other = new SecretBox(randomBytes(32));
  const server = (clientId: number, sealed = box.seal(`secret-${clientId}`)): ResourceServer => ({
    id: `id-${clientId}`,
    name: `rs ${clientId}`,
    clientId,
    secret: sealed,
    createdAt: new Date(),
  });
  const repository: ResourceServersRepository = {
    create: async () => {
      throw new Error('not used');
    },
    remove: async () => null,
    list: async () => [server(1), server(2, other.seal('foreign')), { ...server(3), secret: null }],
  };
  const reported: string[] = [];
  const rows = await resourceServerSecrets(repository, box, (_err, context) => reported.push(context))();
  t.same(rows, [{ clientId: '1', secret: 'secret-1' }]);
  t.match(reported, [/resource server 2: its secret cannot be decrypted/]);
});

/** Polls every 10 ms until `condition` holds; the elapsed milliseconds, or a failure after `ms`. */
async function until(ms: number, condition: () => boolean): Promise<number> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - start;
}

/** The outcome of a verification: true, false, or the dependency a 503 names. */
async function outcome(cache: ResourceServerCredentials, id: string, secret: string): Promise<boolean | string> {
  try {
    return await verify(cache, id, secret);
  } catch (err) {
    if (err instanceof DependencyUnavailableError) return err.dependency;
    throw err;
  }
}

t.test('without Redis (PostgreSQL and the in-process token store): no bound, a failing database keeps the cache in force', async (t) => {
  const { cache, db } = await setup(t, [{ clientId: '7', secret: 'kept' }], 100, { trustMarginMs: 100 });
  db.fail = true;
  const keepAlive = setTimeout(() => {}, 2000);
  await new Promise((r) => setTimeout(r, 3 * cache.trustBoundMs));
  clearTimeout(keepAlive);
  t.equal(await outcome(cache, '7', 'kept'), true, 'three bounds of failed loads: still answering (only the database is down)');
  // A removal (the CLI's waits the same: the server's periodic reload brings it within the wait, see the periodic-reload test above).
  db.fail = false;
  const start = performance.now();
  await cache.cutOff(async () => {
    db.rows = [];
    return 'removed';
  });
  t.ok(performance.now() - start >= cache.trustBoundMs - 5, 'the cut-off waited out the bound');
  t.equal(verify(cache, '7', 'kept'), false, 'and it is refused');
});

t.test('freshness with the registry marker: the database down alone keeps introspection answering; a bump does not', async (t) => {
  const marker = fakeMarker();
  const { cache, db } = await setup(t, [{ clientId: '7', secret: 'kept' }], 100, { version: marker, trustMarginMs: 300 });
  db.fail = true;
  // Three bounds long: the unchanged marker alone renews the proof (the database stays down).
  const keepAlive = setTimeout(() => {}, 2000);
  await new Promise((r) => setTimeout(r, 3 * cache.trustBoundMs));
  clearTimeout(keepAlive);
  t.equal(await outcome(cache, '7', 'kept'), true, 'still answering, database down for three bounds');
  // A removal elsewhere: the marker moves, this instance cannot load what changed.
  await marker.bump();
  const bumpedAt = performance.now();
  await until(3000, () => verifySync(cache) !== true);
  t.ok(performance.now() - bumpedAt <= cache.trustBoundMs + 300, 'stopped trusting its cache within the bound');
  t.equal(await outcome(cache, '7', 'kept'), 'database', '503 naming the database');
  db.rows = [];
  db.fail = false;
  await until(3000, () => verifySync(cache) === false);
  t.pass('once the database answers, the removal is loaded: 401');
});

t.test('freshness with the registry marker: Redis down too (a hung database) answers 503 within the bound', async (t) => {
  const marker = fakeMarker();
  const { cache, db } = await setup(t, [{ clientId: '7', secret: 'kept' }], 100, { version: marker, trustMarginMs: 300 });
  const g = gate();
  db.gate = g.promise;
  t.teardown(() => g.open());
  const keepAlive = setTimeout(() => {}, 2000);
  await new Promise((r) => setTimeout(r, 2 * cache.trustBoundMs));
  clearTimeout(keepAlive);
  t.equal(await outcome(cache, '7', 'kept'), true, 'a hung database: the marker keeps the proof going');
  marker.down = true;
  const downAt = performance.now();
  await until(3000, () => verifySync(cache) !== true);
  t.ok(performance.now() - downAt <= cache.trustBoundMs + 300, 'stopped within the bound once Redis went too');
  t.equal(await outcome(cache, '7', 'kept'), 'token store', '503 naming the token store');
});

t.test('cutOff: marker bumped before and after the commit, answered only after trustBoundMs', async (t) => {
  const marker = fakeMarker();
  const { cache, db } = await setup(t, [{ clientId: '7', secret: 'gone' }], 100, { version: marker, trustMarginMs: 300 });
  const bumpsAtCommit: number[] = [];
  const start = performance.now();
  const removed = await cache.cutOff(async () => {
    bumpsAtCommit.push(marker.bumps);
    db.rows = [];
    return 'removed';
  });
  const took = performance.now() - start;
  t.equal(removed, 'removed', "the commit's result");
  t.same(bumpsAtCommit, [1], 'bumped once before the commit');
  t.equal(marker.bumps, 2, 'and once after it');
  t.ok(took >= cache.trustBoundMs - 5, `waited ${took.toFixed(0)} ms (bound ${cache.trustBoundMs} ms)`);
  t.equal(await outcome(cache, '7', 'gone'), false, 'this instance refuses it (the notification reloaded it)');

  const nothing = performance.now();
  t.equal(await cache.cutOff(async () => null), null, 'nothing to remove');
  t.ok(performance.now() - nothing < cache.trustBoundMs, 'answered without the wait');

  marker.down = true;
  let committed = false;
  const refused = await cache
    .cutOff(async () => {
      committed = true;
      return 'x';
    })
    .catch((err: unknown) => err);
  t.type(refused, DependencyUnavailableError, 'Redis down: 503');
  t.match(refused, { dependency: 'token store' }, 'naming the token store');
  t.equal(committed, false, 'before anything changed');
});

t.test('exclusive (the embedded database, one process): no bound; a cut-off is in force here before it resolves', async (t) => {
  const { cache, db } = await setup(t, [{ clientId: '7', secret: 'kept' }], 100, { exclusive: true, trustMarginMs: 100 });
  db.fail = true;
  const keepAlive = setTimeout(() => {}, 2000);
  await new Promise((r) => setTimeout(r, 3 * cache.trustBoundMs));
  clearTimeout(keepAlive);
  t.equal(await outcome(cache, '7', 'kept'), true, 'failing loads do not lapse it: nobody else can change the registry');
  db.fail = false;
  const start = performance.now();
  const removed = await cache.cutOff(async () => {
    db.rows = [];
    return 'removed';
  });
  t.equal(removed, 'removed');
  t.equal(await verify(cache, '7', 'kept'), false, 'refused right after it resolved');
  t.ok(performance.now() - start < cache.trustBoundMs, 'without waiting out a bound');
  db.fail = true;
  await t.rejects(
    cache.cutOff(async () => 'x'),
    /database unavailable/,
    'a reload that fails fails the cut-off (503), never acknowledged unloaded',
  );
});

/** A synchronous verification of the known-good secret on a fresh connection: true, false or 'unavailable'. */
function verifySync(cache: ResourceServerCredentials): boolean | 'unavailable' | 'pending' {
  try {
    const answer = cache.verifyAuthorization(header('7', 'kept'), {});
    return typeof answer === 'boolean' ? answer : 'pending';
  } catch {
    return 'unavailable';
  }
}
