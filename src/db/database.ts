// The relational store: PostgreSQL when DATABASE_URL is set, else an embedded PGlite database
// under DATA_DIR (docs/configuration.md, "Storage"). Both are reached through Prisma driver adapters, so there is
// no native query engine, and both run the same migrations.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { lock } from 'proper-lockfile';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { Config } from '../config.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { boundedClientClass } from './bounded-client.js';
import { type MigrationSession, migrate, pendingMigrations } from './migrate.js';

/**
 * Parameterised statements sent as they are, without Prisma: for the password grant's one read
 * (clients-repository.ts), where Prisma's request handling cost more CPU than the statement
 * itself (bench/README.md, "CPU per grant outside the hash"). The same connections as Prisma's
 * (its driver adapter's pool, so the same statement bound, and the same PgBouncer rules: unnamed
 * statements only), or the same embedded database.
 */
export interface Sql {
  query<T>(text: string, values: unknown[]): Promise<T[]>;
}

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly prisma: PrismaClient;
  readonly sql: Sql;
  /** Runs pending migrations (over MIGRATION_DATABASE_URL when set); returns the names applied. */
  migrate(): Promise<string[]>;
  /** Throws SchemaNotMigratedError unless every migration of this version is applied. Runs no DDL. */
  assertMigrated(): Promise<void>;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

type DatabaseConfig = Pick<Config, 'databaseUrl' | 'dataDir' | 'databasePoolMax' | 'databaseStatementTimeoutMs'> &
  Partial<Pick<Config, 'migrationDatabaseUrl'>>;

/** MIGRATE_ON_START=false and the schema is behind this version: the migration has not run. */
export class SchemaNotMigratedError extends Error {
  override name = 'SchemaNotMigratedError';
  constructor(readonly pending: string[]) {
    super(
      `the database schema is behind this version (not applied: ${pending.join(', ')}); MIGRATE_ON_START=false, so run the ` +
        'migration first: `reseller-auth migrate` (npm run migrate; the Helm chart runs it as a Job)',
    );
  }
}

// How long a server that does not answer a cancel request is given before the connection is cut.
const CANCEL_GRACE_MS = 1000;

export async function openDatabase(config: DatabaseConfig, onError: (err: Error) => void = () => {}): Promise<Database> {
  return config.databaseUrl ? openPostgres(config.databaseUrl, config, onError) : openPglite(config.dataDir);
}

function openPostgres(url: string, config: DatabaseConfig, onError: (err: Error) => void): Database {
  // No startup parameter beyond user and database: PgBouncer in transaction mode refuses the others
  // (bounded-client.ts). Every statement is bounded, a lock wait included, by a cancel request at
  // DATABASE_STATEMENT_TIMEOUT_MS, so no request waits on PostgreSQL for long.
  const Client = boundedClientClass({ statementTimeoutMs: config.databaseStatementTimeoutMs, cancelGraceMs: CANCEL_GRACE_MS });
  const pool = new pg.Pool({ connectionString: url, Client, max: config.databasePoolMax, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 3000 });
  // An idle client's connection dropping (PostgreSQL restarted) must not crash the process.
  pool.on('error', onError);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: 'postgres',
    prisma,
    sql: {
      async query<T>(text: string, values: unknown[]) {
        return (await pool.query({ text, values })).rows as T[];
      },
    },
    async migrate() {
      // Unbounded: a migration may rewrite a large table. Its own connection, which may be a
      // direct one with a DDL-capable role (MIGRATION_DATABASE_URL) while the pool goes through PgBouncer.
      const client = new pg.Client({ connectionString: config.migrationDatabaseUrl ?? url, connectionTimeoutMillis: 3000 });
      client.on('error', onError);
      await client.connect();
      try {
        return await migrate(pgSession(client));
      } finally {
        await client.end();
      }
    },
    async assertMigrated() {
      const pending = await pendingMigrations(pgSession(pool));
      if (pending.length > 0) throw new SchemaNotMigratedError(pending);
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

function pgSession(client: pg.Client | pg.Pool): MigrationSession {
  return {
    async exec(script) {
      // Simple-protocol query: the whole multi-statement migration in one round trip.
      await client.query(script);
    },
    async query<T>(text: string, params: unknown[] = []) {
      return (await client.query(text, params)).rows as T[];
    },
  };
}

/** Another process (a running server, another CLI run) holds the embedded database's lock. */
export class EmbeddedDatabaseInUseError extends Error {
  override name = 'EmbeddedDatabaseInUseError';
  constructor(readonly directory: string) {
    super(`the embedded database in ${directory} is in use by another process (stop the running service first)`);
  }
}

async function openPglite(dataDir: string): Promise<Database> {
  const dir = join(dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  // PGlite lets two processes open one data directory, and they then corrupt it: the service and
  // the CLI must take turns. The lock goes stale (and can be taken over) when its holder dies.
  const release = await lock(dir, { lockfilePath: join(dataDir, 'pglite.lock'), stale: 10_000 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOCKED') {
      throw new EmbeddedDatabaseInUseError(dir);
    }
    throw err;
  });
  let db: PGlite;
  try {
    db = await PGlite.create(dir);
  } catch (err) {
    await release();
    throw err;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  const session: MigrationSession = {
    async exec(script) {
      await db.exec(script);
    },
    async query<T>(text: string, params: unknown[] = []) {
      return (await db.query<T>(text, params)).rows;
    },
  };
  return {
    kind: 'pglite',
    prisma,
    sql: {
      async query<T>(text: string, values: unknown[]) {
        return (await db.query<T>(text, values)).rows;
      },
    },
    migrate: () => migrate(session),
    async assertMigrated() {
      const pending = await pendingMigrations(session);
      if (pending.length > 0) throw new SchemaNotMigratedError(pending);
    },
    async ping() {
      await db.query('SELECT 1');
    },
    async close() {
      await prisma.$disconnect();
      // PGlite holds the data directory: it must be closed before the lock is given back.
      await db.close();
      await release();
    },
  };
}
