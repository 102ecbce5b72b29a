// Who runs the migrations. MIGRATE_ON_START=true (the default, what `npm start` does) migrates at
// start-up; false leaves them to `reseller-auth migrate` (the Helm chart's Job): the service then
// runs no DDL and refuses to start on a schema behind its migrations, naming the command.
// MIGRATION_DATABASE_URL is the connection migrations use, when they need another one.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { readMigrations } from '../../src/db/migrate.js';
import { BACKENDS, build, createTestDatabase } from '../helper.js';

const embedded = BACKENDS.find((b) => b.name === 'embedded') as (typeof BACKENDS)[number];
const postgres = BACKENDS.find((b) => b.name === 'postgres+redis') as (typeof BACKENDS)[number];
const NOT_MIGRATED = /database schema is behind this version \(not applied: 20261129000000_init, .*`reseller-auth migrate`/;

t.test('configuration', async (t) => {
  t.equal(loadConfig({}).migrateOnStart, true, 'migrates at start-up by default');
  t.equal(loadConfig({ MIGRATE_ON_START: 'false' }).migrateOnStart, false);
  t.throws(() => loadConfig({ MIGRATE_ON_START: 'no' }), /MIGRATE_ON_START: must be true or false/);
  t.throws(
    () => loadConfig({ MIGRATION_DATABASE_URL: 'postgresql://u:p@127.0.0.1/db' }),
    /MIGRATION_DATABASE_URL: needs DATABASE_URL/,
    'the embedded database has no separate migration connection',
  );
  t.throws(
    () => loadConfig({ DATABASE_URL: 'postgresql://u:p@127.0.0.1/db', MIGRATION_DATABASE_URL: 'mysql://x' }),
    /MIGRATION_DATABASE_URL: must be a URL/,
  );
});

t.test('embedded: MIGRATE_ON_START=false refuses an unmigrated directory, accepts it once migrated', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'reseller-auth-migrate-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  await t.rejects(build(t, embedded, { DATA_DIR: dataDir, MIGRATE_ON_START: 'false' }), NOT_MIGRATED);
  const db = await openDatabase({ databaseUrl: undefined, dataDir, databasePoolMax: 1, databaseStatementTimeoutMs: 1000 });
  try {
    const tables = await db.prisma.$queryRawUnsafe<{ n: number }[]>("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
    t.same(tables, [{ n: 0 }], 'the refused start ran no DDL');
    t.same(
      await db.migrate(),
      (await readMigrations()).map((m) => m.name),
      'reseller-auth migrate applies them',
    );
    // What start-up checks with MIGRATE_ON_START=false (the PostgreSQL case below starts the service).
    await t.resolves(db.assertMigrated(), 'the schema is at the latest migration');
  } finally {
    await db.close();
  }
});

t.test('PostgreSQL: MIGRATE_ON_START=false; MIGRATION_DATABASE_URL carries the migrations', { skip: postgres.skip }, async (t) => {
  const url = await createTestDatabase(t);
  await t.rejects(build(t, embedded, { DATABASE_URL: url, MIGRATE_ON_START: 'false' }), NOT_MIGRATED);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const tables = await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  await client.end();
  t.same(tables.rows, [], 'the refused start ran no DDL');

  // The service's own connection goes nowhere (nothing listens on port 1): only the migration
  // connection can have applied them.
  const unreachable = new URL(url);
  unreachable.port = '1';
  const db = await openDatabase({
    databaseUrl: unreachable.toString(),
    migrationDatabaseUrl: url,
    dataDir: '/nonexistent',
    databasePoolMax: 1,
    databaseStatementTimeoutMs: 1000,
  });
  try {
    t.same(
      await db.migrate(),
      (await readMigrations()).map((m) => m.name),
      'applied over MIGRATION_DATABASE_URL',
    );
    await t.rejects(db.ping(), 'the service connection is another one');
  } finally {
    await db.close();
  }
  const ctx = await build(t, embedded, { DATABASE_URL: url, MIGRATE_ON_START: 'false' });
  t.equal((await ctx.publicApp.inject({ method: 'GET', url: '/health/ready' })).statusCode, 200, 'starts on the migrated schema');
});
