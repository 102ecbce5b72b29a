// The resource-server credential cache (src/resource-servers/credential-cache.ts) on its own: what
// it answers, when it reloads, and that a failing or hanging database never takes introspection
// down with it. The cross-instance bound is measured in test/multi-instance.test.ts.
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { createLocalEvents } from '../../src/events.js';
import type { ResourceServer, ResourceServersRepository } from '../../src/repositories/resource-servers-repository.js';
import {
  RELOAD_WAIT_MS,
  type ResourceServerCredentials,
  createResourceServerCredentials,
  resourceServerSecrets,
} from '../../src/resource-servers/credential-cache.js';
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

async function setup(t: Test, rows: Row[], reloadIntervalMs = 60_000) {
  const db = fakeDatabase(rows);
  const events = createLocalEvents();
  const errors: string[] = [];
  const cache = await createResourceServerCredentials({
    load: () => db.load(),
    events,
    reloadIntervalMs,
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
