// Which DBS reseller each Passport client belongs to: Passport itself does not know. Given on
// the command line either as a table of the DBS schema (in the Passport database) or as a CSV
// file. Each entry names the reseller and its client, and optionally the Passport user the
// client authenticates (else oauth_clients.user_id) and the client's allowed networks.
import { readFile } from 'node:fs/promises';
import { tableColumns } from './passport-layout.js';
import { type PassportSource, isIdentifier, toId } from './source.js';

export type MappingSpec =
  | { kind: 'csv'; path: string }
  | {
      kind: 'table';
      table: string;
      resellerColumn: string;
      clientColumn: string;
      userColumn?: string;
      allowedIpColumn?: string;
      /** An SQL condition on the table's rows, as the operator wrote it (--map-where). */
      where?: string;
      /** Keep soft-deleted rows (by default a `deleted_at` column, when there is one, must be NULL). */
      includeDeleted?: boolean;
    };

/** The mapping names a table or column the Passport database does not have (a usage error). */
export class MappingTableError extends Error {
  override name = 'MappingTableError';
}

export interface ResellerMapping {
  resellerId: string;
  clientId: number;
  userId: number | null;
  /** Comma- or space-separated addresses/CIDR blocks, as the panel's "IP Liberado". */
  allowedIp: string | null;
  /** Where the entry came from, for messages ("line 3", "row reseller 6"). */
  origin: string;
}

export interface MappingResult {
  entries: ResellerMapping[];
  problems: string[];
}

/** docs/admin-api.md: the DBS's reseller ids. */
export const RESELLER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const CLIENT_ID_MAX = 2_147_483_647;

/** One RFC 4180 line (quoted fields may hold commas; no field spans lines). */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      fields.push(field.trim());
      field = '';
    } else field += char;
  }
  fields.push(field.trim());
  return fields;
}

function entry(origin: string, reseller: unknown, client: unknown, user: unknown, allowed: unknown, problems: string[]): ResellerMapping | null {
  const resellerId = reseller === null || reseller === undefined ? '' : String(reseller).trim();
  const clientId = toId(typeof client === 'string' ? client.trim() : client);
  const userText = user === null || user === undefined ? '' : String(user).trim();
  const userId = userText === '' ? null : toId(userText);
  if (!RESELLER_ID.test(resellerId)) {
    problems.push(`${origin}: reseller id "${resellerId}" is not 1–64 characters of [A-Za-z0-9_-]`);
    return null;
  }
  if (clientId === null || clientId > CLIENT_ID_MAX) {
    problems.push(`${origin}: client id "${String(client)}" is not a positive 32-bit integer`);
    return null;
  }
  if (userText !== '' && userId === null) {
    problems.push(`${origin}: user id "${userText}" is not a positive integer`);
    return null;
  }
  const allowedIp = allowed === null || allowed === undefined || String(allowed).trim() === '' ? null : String(allowed).trim();
  return { resellerId, clientId, userId, allowedIp, origin };
}

/**
 * A first line of column names (`reseller_id,client_id`, `id,oauth_client_id`, …): its client
 * id field is a name, where a data line has a number.
 */
function isHeader(fields: string[]): boolean {
  return fields.length >= 2 && /^[A-Za-z_][A-Za-z0-9_ ]*$/.test(fields[1] ?? '');
}

/** reseller_id,client_id[,user_id[,allowed_ip]]; an optional header line; blank lines and # comments skipped. */
export function parseMappingCsv(text: string): MappingResult {
  const entries: ResellerMapping[] = [];
  const problems: string[] = [];
  let first = true;
  // A spreadsheet's UTF-8 export starts with a byte-order mark.
  for (const [index, raw] of text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = splitCsvLine(line);
    const header = first && isHeader(fields);
    first = false;
    if (header) continue;
    if (fields.length < 2 || fields.length > 4) {
      problems.push(`line ${index + 1}: expected reseller_id,client_id[,user_id[,allowed_ip]], got ${fields.length} fields`);
      continue;
    }
    const found = entry(`line ${index + 1}`, fields[0], fields[1], fields[2], fields[3], problems);
    if (found) entries.push(found);
  }
  return { entries, problems };
}

export async function readMapping(spec: MappingSpec, source: PassportSource): Promise<MappingResult> {
  if (spec.kind === 'csv') return parseMappingCsv(await readFile(spec.path, 'utf8'));
  const names = [spec.table, spec.resellerColumn, spec.clientColumn, spec.userColumn, spec.allowedIpColumn].filter(
    (n): n is string => n !== undefined,
  );
  const bad = names.find((name) => !isIdentifier(name));
  if (bad !== undefined) throw new Error(`"${bad}" is not a table or column name (letters, digits and _ only)`);
  const q = (name: string) => source.quote(name);
  const columns = [
    `${q(spec.resellerColumn)} AS reseller_id`,
    `${q(spec.clientColumn)} AS client_id`,
    spec.userColumn ? `${q(spec.userColumn)} AS user_id` : 'NULL AS user_id',
    spec.allowedIpColumn ? `${q(spec.allowedIpColumn)} AS allowed_ip` : 'NULL AS allowed_ip',
  ];
  const present = await tableColumns(source, spec.table);
  if (present.size === 0) throw new MappingTableError(`the Passport database has no table "${spec.table}" (--map-table)`);
  const options: [string | undefined, string][] = [
    [spec.resellerColumn, '--map-reseller-column'],
    [spec.clientColumn, '--map-client-column'],
    [spec.userColumn, '--map-user-column'],
    [spec.allowedIpColumn, '--map-allowed-ip-column'],
  ];
  for (const [column, option] of options) {
    if (column !== undefined && !present.has(column.toLowerCase())) {
      throw new MappingTableError(`the table "${spec.table}" has no column "${column}" (${option})`);
    }
  }
  const conditions = [`${q(spec.clientColumn)} IS NOT NULL`];
  // Laravel's SoftDeletes: a deleted reseller row is still in the table, with deleted_at set.
  if (!spec.includeDeleted && present.has('deleted_at')) conditions.push(`${q('deleted_at')} IS NULL`);
  // The operator's own condition, run on the read-only snapshot connection (one statement only).
  if (spec.where !== undefined) conditions.push(`(${spec.where})`);
  const rows = await source.query<Record<string, unknown>>(
    `SELECT ${columns.join(', ')} FROM ${q(spec.table)} WHERE ${conditions.join(' AND ')} ORDER BY ${q(spec.resellerColumn)}`,
  );
  const entries: ResellerMapping[] = [];
  const problems: string[] = [];
  for (const row of rows) {
    const found = entry(
      `${spec.table} row reseller ${String(row.reseller_id)}`,
      row.reseller_id,
      row.client_id,
      row.user_id,
      row.allowed_ip,
      problems,
    );
    if (found) entries.push(found);
  }
  return { entries, problems };
}
