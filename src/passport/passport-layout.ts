// Which Passport the source database is, read from its columns before any row: the import keeps
// Passport's client ids, and ours are integers. Layouts:
//   Passport 10–12            oauth_clients.id bigint, password_client and provider columns
//   Passport 13 (upgraded)    oauth_clients.id bigint, grant_types (JSON) instead of password_client
//   Passport 13 (new install) oauth_clients.id uuid            → refused
//   `passport:install --uuids` (10–12): oauth_clients.id uuid   → refused
// A refused layout stops the run before anything is read or written, with a message naming it.
import type { PassportSource } from './source.js';

export interface PassportLayout {
  /** How a password-grant client is recognised. */
  passwordClient: 'password_client' | 'grant_types';
  /** oauth_clients.user_id exists (Passport 13 has owner_type/owner_id instead). */
  userColumn: boolean;
  /** oauth_clients.provider exists (Passport ≥ 5.0). */
  provider: boolean;
}

/** A Passport database this import cannot read; the CLI exits with EX_DATAERR (65). */
export class UnsupportedPassportLayoutError extends Error {
  override name = 'UnsupportedPassportLayoutError';
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);

/** Column name → data type, lower-cased, of `table` in the source's current database/schema. */
export async function tableColumns(source: PassportSource, table: string): Promise<Map<string, string>> {
  const [schema, name] = table.includes('.') ? (table.split('.') as [string, string]) : [null, table];
  const where = schema === null ? (source.kind === 'mysql' ? 'DATABASE()' : 'current_schema()') : '?';
  const rows = await source.query<{ name: unknown; type: unknown }>(
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = ${where} AND table_name = ?`,
    schema === null ? [name] : [schema, name],
  );
  return new Map(rows.map((r) => [String(r.name).toLowerCase(), String(r.type).toLowerCase()]));
}

export async function readPassportLayout(source: PassportSource): Promise<PassportLayout> {
  const columns = await tableColumns(source, 'oauth_clients');
  if (columns.size === 0) {
    throw new UnsupportedPassportLayoutError(
      'the Passport database has no oauth_clients table: check that --from (or PASSPORT_DATABASE_URL) names the Laravel application’s database',
    );
  }
  const idType = columns.get('id') ?? 'none';
  if (!INTEGER_TYPES.has(idType)) {
    throw new UnsupportedPassportLayoutError(
      `oauth_clients.id is ${idType}, not an integer: this is Passport with uuid client ids (Passport 13, or 10–12 installed with passport:install --uuids). The import keeps every client id, and this service's client ids are integers, so this layout is not supported; nothing was read or written`,
    );
  }
  let passwordClient: PassportLayout['passwordClient'];
  if (columns.has('password_client')) passwordClient = 'password_client';
  else if (columns.has('grant_types')) passwordClient = 'grant_types';
  else {
    throw new UnsupportedPassportLayoutError(
      'oauth_clients has neither password_client (Passport 10–12) nor grant_types (Passport 13): not a Passport layout this import knows; nothing was read or written',
    );
  }
  return { passwordClient, userColumn: columns.has('user_id'), provider: columns.has('provider') };
}
