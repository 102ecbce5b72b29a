// The Passport database the import reads: MySQL/MariaDB (mysql2) or PostgreSQL (pg),
// by URL. Read-only, in one snapshot transaction so that clients, users and tokens agree with
// each other. Queries are written once with `?` placeholders; this file adapts them per dialect
// and turns driver values (tinyint booleans, bigint strings, zone-less timestamps) into plain ones.
import mysql from 'mysql2/promise';
import pg from 'pg';
import { sourceTimeZone } from './source-time-zone.js';

export type SourceKind = 'mysql' | 'postgres';

export interface PassportSource {
  readonly kind: SourceKind;
  /** `sql` uses `?` placeholders; arrays are not expanded (use placeholders()). */
  query<T extends object>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Quotes a validated identifier (`name` or `schema.name`) for this dialect. */
  quote(identifier: string): string;
  /** A timestamp literal that both dialects compare correctly with Laravel's zone-less columns. */
  timestamp(date: Date): string;
  /** Reads a timestamp column value (zone-less values are in the source's time zone). */
  toDate(value: unknown): Date | null;
  close(): Promise<void>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63})?$/;

export function isIdentifier(value: string): boolean {
  return IDENTIFIER.test(value);
}

export function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

/** The scheme decides the driver; the password never appears in a message. */
export function sourceKind(url: string): SourceKind {
  if (!URL.canParse(url)) throw new Error('the Passport database URL is not a URL');
  const protocol = new URL(url).protocol;
  if (protocol === 'mysql:' || protocol === 'mariadb:') return 'mysql';
  if (protocol === 'postgres:' || protocol === 'postgresql:') return 'postgres';
  throw new Error(`the Passport database URL must start with mysql://, mariadb://, postgres:// or postgresql:// (got ${protocol}//)`);
}

export function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}

/** Integer ids as numbers (pg returns bigint as a string); null when not a safe integer. */
export function toId(value: unknown): number | null {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0 ? n : null;
}

const TIMESTAMP_WITHOUT_ZONE = 1114;

export async function openPassportSource(url: string, timezone = 'Z'): Promise<PassportSource> {
  const zone = sourceTimeZone(timezone);
  const kind = sourceKind(url);
  const toDate = (value: unknown): Date | null => {
    if (value === null || value === undefined) return null;
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
    return typeof value === 'string' ? zone.fromWallClock(value) : null;
  };
  if (kind === 'mysql') {
    const target = new URL(url);
    target.protocol = 'mysql:';
    // dateStrings: DATETIME/TIMESTAMP come back as written; toDate() applies the source's zone.
    const connection = await mysql.createConnection({ uri: target.toString(), dateStrings: true, supportBigNumbers: true, connectTimeout: 10_000 });
    try {
      await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    } catch (err) {
      await connection.end();
      throw err;
    }
    return {
      kind,
      async query<T extends object>(sql: string, params: readonly unknown[] = []) {
        const [rows] = await connection.query(sql, params as unknown[]);
        return rows as T[];
      },
      quote: (identifier) =>
        identifier
          .split('.')
          .map((part) => `\`${part}\``)
          .join('.'),
      timestamp: (date) => zone.wallClock(date),
      toDate,
      async close() {
        await connection.query('COMMIT').catch(() => {});
        await connection.end();
      },
    };
  }
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 10_000,
    types: {
      // Zone-less timestamps stay strings: pg would read them in this process's zone.
      getTypeParser: ((oid: number, format: 'text' | 'binary') =>
        oid === TIMESTAMP_WITHOUT_ZONE ? (value: string) => value : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  } catch (err) {
    await client.end();
    throw err;
  }
  return {
    kind,
    async query<T extends object>(sql: string, params: readonly unknown[] = []) {
      let n = 0;
      const text = sql.replace(/\?/g, () => `$${++n}`);
      return (await client.query(text, params as unknown[])).rows as T[];
    },
    quote: (identifier) =>
      identifier
        .split('.')
        .map((part) => `"${part}"`)
        .join('.'),
    // PostgreSQL ignores the offset when the column has no zone, and honours it when it has one.
    timestamp: (date) => `${zone.wallClock(date)}${zone.offsetAt(date)}`,
    toDate,
    async close() {
      await client.query('COMMIT').catch(() => {});
      await client.end();
    },
  };
}
