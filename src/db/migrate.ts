// Applies prisma/migrations/*/migration.sql in order and records each in _prisma_migrations the
// way `prisma migrate deploy` does (same table, checksum = SHA-256 of the file), so that
// `prisma migrate status` agrees. The service runs this itself because the Prisma CLI cannot run
// migrations on machines that cannot download its native engines (docs/configuration.md, "Storage"), and the
// embedded PGlite database must be migrated at start-up anyway.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One database session: statements run in order on the same connection. */
export interface MigrationSession {
  exec(script: string): Promise<void>;
  query<T>(text: string, params?: unknown[]): Promise<T[]>;
}

export const migrationsDir = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

// The lock key Prisma's own migrate uses, so that our migrator and the CLI exclude each other.
const ADVISORY_LOCK = 72707369;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir = migrationsDir): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

const APPLIED = 'SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL';

/** The migrations not applied yet, in order; throws on a modified or half-applied one. */
function notApplied(all: Migration[], rows: AppliedRow[]): Migration[] {
  const applied = new Map(rows.map((r) => [r.migration_name, r]));
  return all.filter((m) => {
    const row = applied.get(m.name);
    if (row?.finished_at) {
      if (row.checksum !== m.checksum) throw new Error(`migration ${m.name} was modified after it was applied (checksum mismatch)`);
      return false;
    }
    if (row) throw new Error(`migration ${m.name} failed earlier and must be resolved by hand`);
    return true;
  });
}

async function inTransaction<T>(session: MigrationSession, work: () => Promise<T>): Promise<T> {
  await session.exec('BEGIN');
  try {
    const result = await work();
    await session.exec('COMMIT');
    return result;
  } catch (err) {
    await session.exec('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Applies pending migrations; returns the names applied. Safe to run from several instances at
 * once, also through PgBouncer in transaction mode: each migration runs in a transaction of its
 * own that first takes a transaction-scoped advisory lock (pg_advisory_xact_lock) and then reads
 * what is applied. A session-level lock would not do there: PgBouncer hands the server connection
 * holding it to other clients between transactions, so the unlock lands elsewhere and the lock
 * leaks (PgBouncer manual, "Feature matrix for pooling modes"). COMMIT or ROLLBACK always releases it.
 */
export async function migrate(session: MigrationSession, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await readMigrations());
  const done: string[] = [];
  for (;;) {
    const applied = await inTransaction(session, async () => {
      await session.query('SELECT pg_advisory_xact_lock($1)', [ADVISORY_LOCK]);
      await session.exec(CREATE_TABLE);
      const [next] = notApplied(all, await session.query<AppliedRow>(APPLIED));
      if (!next) return undefined;
      await session.exec(next.sql);
      await session.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
         VALUES ($1, $2, now(), $3, 1)`,
        [randomUUID(), next.checksum, next.name],
      );
      return next.name;
    });
    if (applied === undefined) return done;
    done.push(applied);
  }
}

/** The names of the migrations the database lacks, read without DDL (MIGRATE_ON_START=false). */
export async function pendingMigrations(session: MigrationSession, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await readMigrations());
  const [table] = await session.query<{ name: string | null }>(`SELECT to_regclass('"_prisma_migrations"')::text AS name`);
  const rows = table?.name ? await session.query<AppliedRow>(APPLIED) : [];
  return notApplied(all, rows).map((m) => m.name);
}
