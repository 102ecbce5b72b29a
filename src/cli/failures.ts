// What went wrong, for an operator: a sentence naming what to check (the variable, the flag),
// never a bare `connect ECONNREFUSED`, and the exit status of sysexits.h (FreeBSD sysexits(3)),
// so that a script or a Kubernetes Job can tell "fix the input" from "try again later".
import { resolve } from 'node:path';
import type { Config } from '../config.js';
import { EmbeddedDatabaseInUseError, SchemaNotMigratedError } from '../db/database.js';
import { DependencyUnavailableError } from '../errors.js';

export const EXIT = {
  ok: 0,
  /** Not found, or a conflict (the e-mail is taken, import conflicts). */
  failed: 1,
  /** EX_USAGE: bad arguments or input. */
  usage: 64,
  /** EX_UNAVAILABLE: the database or the token store (or the Passport database) cannot be reached. */
  unavailable: 69,
  /** EX_SOFTWARE: an unexpected failure. */
  software: 70,
  /** EX_TEMPFAIL: the embedded database is in use by a running server; run again once it is stopped. */
  tempfail: 75,
  /** EX_CONFIG: invalid configuration, or a database that refuses it. */
  config: 78,
} as const;

/** A failure already worded for the operator, with its exit status. */
export class CliFailure extends Error {
  override name = 'CliFailure';
  constructor(
    readonly exitCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'no answer in time',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed',
};
// PostgreSQL SQLSTATEs (manual, Appendix A): connection exceptions (08), shutting down (57P01-03),
// out of resources (53).
const UNAVAILABLE_SQLSTATE = /^(08\d{3}|57P0[1-3]|53\d{3})$/;
// Invalid authorization (28: wrong user or password, no pg_hba.conf entry) or no such database.
const REFUSED_SQLSTATE = /^(28[0-9A-Z]{3}|3D000)$/;
// pg's own timeouts and dropped connections carry no code ("Connection terminated due to connection timeout").
const DRIVER_MESSAGES = /timeout|terminated unexpectedly/i;
const DATA_DIR_CODES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOTDIR: 'a path component is not a directory',
  EEXIST: 'it exists and is not a directory',
  ENOSPC: 'no space left on the device',
};

interface Coded {
  code?: unknown;
  path?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error and what it wraps (cause, AggregateError's errors), outermost first. */
function chain(err: unknown): Coded[] {
  const seen: Coded[] = [];
  const visit = (e: unknown) => {
    if (typeof e !== 'object' || e === null || seen.includes(e as Coded) || seen.length > 10) return;
    const coded = e as Coded;
    seen.push(coded);
    visit(coded.cause);
    if (Array.isArray(coded.errors)) for (const inner of coded.errors) visit(inner);
  };
  visit(err);
  return seen;
}

const codes = (err: unknown) => chain(err).flatMap((e) => (typeof e.code === 'string' ? [e.code] : []));

/** Why a connection failed, in words ("connection refused"), when it is a network failure. */
export function networkReason(err: unknown): string | undefined {
  for (const code of codes(err)) {
    const reason = NETWORK_REASONS[code];
    if (reason) return reason;
    if (UNAVAILABLE_SQLSTATE.test(code)) return 'the server is not accepting connections';
  }
  const timedOut = chain(err).some((e) => typeof e.message === 'string' && DRIVER_MESSAGES.test(e.message));
  return timedOut ? 'no answer in time' : undefined;
}

/** `host:port` of a URL, never its credentials. */
export function endpoint(url: string | URL | undefined, defaultPort: number): string {
  if (url === undefined) return '';
  try {
    const parsed = new URL(String(url));
    return `${parsed.hostname}:${parsed.port || defaultPort}`;
  } catch {
    return '';
  }
}

/** The URL a command connected with, and the variable that holds it. */
interface DatabaseTarget {
  url: string | undefined;
  variable: string;
}

function databaseUnreachable(target: DatabaseTarget, reason: string, cause: unknown): CliFailure {
  return new CliFailure(
    EXIT.unavailable,
    `cannot reach the database at ${endpoint(target.url, 5432)} (${reason}). Check ${target.variable}, and that PostgreSQL is running and reachable from here.`,
    { cause },
  );
}

function tokenStoreUnreachable(config: Config, cause: unknown): CliFailure {
  const reason = networkReason(cause) ?? 'it does not answer';
  // REDIS_URL, or Sentinel or Cluster nodes (several addresses: none is named).
  const where = config.redisUrl ? `Redis at ${endpoint(config.redisUrl, 6379)}` : 'Redis';
  const check = config.redisUrl ? 'REDIS_URL' : 'REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES';
  return new CliFailure(
    EXIT.unavailable,
    `cannot reach the token store, ${where} (${reason}). Check ${check}, and that Redis is running and reachable from here.`,
    { cause },
  );
}

/**
 * Turns a failure to open or use the database or the token store into a CliFailure that says
 * what to check; anything else is returned as it is.
 */
export function explain(err: unknown, config: Config | undefined, options: { migrating?: boolean } = {}): unknown {
  if (err instanceof CliFailure || config === undefined) return err;
  // MIGRATE_ON_START=false and the schema is behind: its message says to run `migrate`.
  if (err instanceof SchemaNotMigratedError) return new CliFailure(EXIT.config, err.message, { cause: err });
  // `migrate` connects with MIGRATION_DATABASE_URL when it is set.
  const target: DatabaseTarget =
    options.migrating && config.migrationDatabaseUrl
      ? { url: config.migrationDatabaseUrl, variable: 'MIGRATION_DATABASE_URL' }
      : { url: config.databaseUrl, variable: 'DATABASE_URL' };
  if (err instanceof EmbeddedDatabaseInUseError) {
    return new CliFailure(
      EXIT.tempfail,
      `the embedded database in DATA_DIR (${config.dataDir}) is in use by a running server: the CLI cannot open it while \`npm start\` runs. Stop the server and run the command again, or make the change through the admin API (http://localhost:${config.adminPort}/admin/…).`,
      { cause: err },
    );
  }
  if (err instanceof DependencyUnavailableError && err.dependency === 'token store') return tokenStoreUnreachable(config, err.cause);
  if (config.databaseUrl) {
    const refused = codes(err).find((code) => REFUSED_SQLSTATE.test(code));
    if (refused) {
      const detail = chain(err).find((e) => e.code === refused)?.message;
      return new CliFailure(
        EXIT.config,
        `the database at ${endpoint(target.url, 5432)} refused the connection (${String(detail)}). Check the user, password and database name in ${target.variable}.`,
        { cause: err },
      );
    }
    const reason = networkReason(err);
    if (reason) return databaseUnreachable(target, reason, err);
    if (err instanceof DependencyUnavailableError) return databaseUnreachable(target, 'it does not answer', err);
  } else {
    // A file system error under DATA_DIR (not, say, an unreadable --map-csv file).
    const dataDir = resolve(config.dataDir);
    const code = chain(err).find(
      (e) => typeof e.code === 'string' && DATA_DIR_CODES[e.code] && typeof e.path === 'string' && resolve(e.path).startsWith(dataDir),
    )?.code as string | undefined;
    if (code) {
      return new CliFailure(
        EXIT.config,
        `cannot open the embedded database in DATA_DIR (${config.dataDir}): ${DATA_DIR_CODES[code]}. Check DATA_DIR, or set DATABASE_URL.`,
        { cause: err },
      );
    }
  }
  return err;
}
