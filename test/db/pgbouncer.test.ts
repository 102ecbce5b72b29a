// The service behind PgBouncer in transaction pool mode (TEST_PGBOUNCER_URL, started by
// scripts/test-services.sh with default settings, so it refuses startup parameters it does not
// track): the whole path works, every statement is still bounded (PgBouncer's server connections
// carry no statement_timeout), and concurrent migrators neither leak a lock nor hang.
import pg from 'pg';
import t from 'tap';
import { openDatabase } from '../../src/db/database.js';
import { readMigrations } from '../../src/db/migrate.js';
import { basic, BACKENDS, NO_STORE, createTestDatabase, build, passwordGrantBody, throughPgBouncer } from '../helper.js';
import { waitFor } from '../faults/dedicated-servers.js';
import { registerResourceServer } from '../faults/requests.js';

const STATEMENT_TIMEOUT_MS = 1000;
// Cancel requests go through PgBouncer and the machine is loaded: the cut comes a little after the bound.
const CUT_WITHIN_MS = STATEMENT_TIMEOUT_MS + 3000;
// The lock key of src/db/migrate.ts (Prisma migrate's own).
const MIGRATION_LOCK = 72707369;

const postgresRedis = BACKENDS.find((b) => b.name === 'postgres+redis');
const skip = !process.env.TEST_PGBOUNCER_URL
  ? 'TEST_PGBOUNCER_URL is not set (source scripts/test-services.sh starts PgBouncer): PgBouncer suite skipped'
  : (postgresRedis?.skip ?? 'no PostgreSQL + Redis backend');

/** A query on PostgreSQL itself, not through PgBouncer (pg_stat_activity, pg_locks). */
async function direct<T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

t.test('PostgreSQL through PgBouncer in transaction pool mode', { skip }, async (t) => {
  const ctx = await build(
    t,
    postgresRedis as (typeof BACKENDS)[number],
    { DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) },
    { throughPgBouncer: true },
  );
  const bouncer = new URL(process.env.TEST_PGBOUNCER_URL as string);
  const database = new URL(ctx.config.databaseUrl as string);

  t.test('the test PgBouncer refuses a startup parameter, and the service sends none', async (t) => {
    t.equal(database.port, bouncer.port, 'the service is configured with the PgBouncer port');
    const withTimeout = new pg.Client({ connectionString: ctx.config.databaseUrl, statement_timeout: 1000 });
    await t.rejects(withTimeout.connect(), /unsupported startup parameter: statement_timeout/, 'what node-postgres did before is refused');
    await withTimeout.end().catch(() => undefined);
    t.equal((await ctx.publicApp.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200, 'readiness 200');
  });

  t.test('admin PUT, password grant and introspection', async (t) => {
    const put = await ctx.adminApp.inject({
      method: 'PUT',
      url: '/admin/resellers/bouncer1/api',
      headers: { authorization: `Bearer ${ctx.adminToken}` },
      payload: { name: 'Revenda PgBouncer', email: 'api@bouncer.example', password: 'senha-forte-123', allowedIp: '127.0.0.1' },
    });
    t.equal(put.statusCode, 201, 'PUT creates the access');
    const access = put.json() as { clientId: string; clientSecret: string };
    t.match(access, { resellerId: 'bouncer1', email: 'api@bouncer.example', allowedIp: ['127.0.0.1/32'], active: true, clientId: /^\d+$/ });
    const grant = await ctx.publicApp.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: passwordGrantBody({
        clientId: access.clientId,
        clientSecret: access.clientSecret,
        email: 'api@bouncer.example',
        password: 'senha-forte-123',
      }),
    });
    t.equal(grant.statusCode, 200, 'password grant 200');
    t.match(grant.headers, NO_STORE);
    const { access_token } = grant.json() as { access_token: string };
    const rs = await registerResourceServer(ctx);
    const introspected = await ctx.publicApp.inject({
      method: 'POST',
      url: '/oauth/introspect',
      payload: { token: access_token },
      headers: { authorization: basic(rs.clientId, rs.secret) },
    });
    t.equal(introspected.statusCode, 200);
    t.match(introspected.json(), { active: true, client_id: access.clientId, username: 'api@bouncer.example' }, 'the token is active');
  });

  t.test('a statement past DATABASE_STATEMENT_TIMEOUT_MS is cancelled in the server', async (t) => {
    const started = performance.now();
    const err = await ctx.services.db.prisma.$queryRawUnsafe('SELECT pg_sleep(30) /* bound-probe */').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    const ms = performance.now() - started;
    t.match(err?.message, /57014|canceling statement/, 'query_canceled (57014)');
    t.ok(ms >= STATEMENT_TIMEOUT_MS - 50 && ms < CUT_WITHIN_MS, `cut at the bound: ${Math.round(ms)} ms`);
    const running = await direct(
      "SELECT pid FROM pg_stat_activity WHERE query LIKE '%bound-probe%' AND state = 'active' AND pid <> pg_backend_pid()",
    );
    t.same(running, [], 'PostgreSQL no longer runs it');
    t.same(await ctx.services.db.prisma.$queryRawUnsafe('SELECT 1 AS ok'), [{ ok: 1 }], 'the pool answers after the cut');
  });

  t.test('a request waiting on a lock answers 503 at the bound, and the wait ends in the server', async (t) => {
    const seeded = await ctx.adminApp.inject({
      method: 'PUT',
      url: '/admin/resellers/bouncer2/api',
      headers: { authorization: `Bearer ${ctx.adminToken}` },
      payload: { name: 'Revenda Lock', email: 'api@lock.example', password: 'senha-forte-123', allowedIp: '127.0.0.1' },
    });
    const access = seeded.json() as { clientId: string; clientSecret: string };
    const directUrl = new URL(process.env.TEST_DATABASE_URL as string);
    directUrl.pathname = database.pathname;
    const locker = new pg.Client({ connectionString: directUrl.toString() });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE clients IN ACCESS EXCLUSIVE MODE');
      const started = performance.now();
      const res = await ctx.publicApp.inject({
        method: 'POST',
        url: '/oauth/token',
        payload: passwordGrantBody({
          clientId: access.clientId,
          clientSecret: access.clientSecret,
          email: 'api@lock.example',
          password: 'senha-forte-123',
        }),
      });
      const ms = performance.now() - started;
      t.equal(res.statusCode, 503, 'database unavailable');
      t.match(res.json(), { error: 'temporarily_unavailable' });
      t.ok(ms < CUT_WITHIN_MS, `answered in ${Math.round(ms)} ms`);
      // A statement the request started a moment after the one that answered ends at its own bound.
      const waiting = () => direct("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = $1", [database.pathname.slice(1)]);
      await waitFor('the lock waits to end', async () => (await waiting()).length === 0, CUT_WITHIN_MS);
      t.pass('no statement waits for the lock while it is still held');
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  });

  t.test('6 concurrent migrators all finish, each migration applied once, no lock left, the next one does not hang', async (t) => {
    const url = throughPgBouncer(await createTestDatabase(t));
    const config = { databaseUrl: url, dataDir: '/nonexistent', databasePoolMax: 1, databaseStatementTimeoutMs: 5000 };
    const all = (await readMigrations()).map((m) => m.name);
    const dbs = await Promise.all(Array.from({ length: 6 }, () => openDatabase(config)));
    t.teardown(() => Promise.all(dbs.map((db) => db.close())));
    const applied = await withinMs(60_000, Promise.all(dbs.map((db) => db.migrate())), 'the 6 migrators');
    t.same(applied.flat().sort(), all, 'every migration applied exactly once among them');
    t.same(await withinMs(15_000, (dbs[0] as (typeof dbs)[number]).migrate(), 'the next migrate'), [], 'the next migrate finds nothing to do');
    await t.resolves((dbs[1] as (typeof dbs)[number]).assertMigrated(), 'the schema is at the latest migration');
    t.same(await direct("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1", [MIGRATION_LOCK]), [], 'no advisory lock is held');
  });
});

/** Rejects if `promise` does not settle within `ms`: a hung migrator fails the test instead of timing it out. */
async function withinMs<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
