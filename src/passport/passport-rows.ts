// Reads Laravel Passport 10–13's tables (passport-layout.ts tells which) (oauth_clients, the users table, oauth_access_tokens,
// oauth_refresh_tokens) into plain rows. Batches are bounded: lists of ids are read in chunks,
// and tokens page through their primary key, so a Passport database with millions of tokens
// never sits in memory at once.
import type { PassportLayout } from './passport-layout.js';
import { type PassportSource, placeholders, toBoolean, toId } from './source.js';

export interface PassportClient {
  id: number;
  userId: number | null;
  name: string;
  /** Plain text, or a bcrypt hash after Passport::hashClientSecrets(); null for a public client. */
  secret: string | null;
  passwordClient: boolean;
  revoked: boolean;
  /** The auth provider whose users the password grant checks (config/auth.php); null: the guard's default. */
  provider: string | null;
}

export interface PassportUser {
  id: number;
  name: string;
  email: string;
  /** Laravel's Hash: bcrypt ($2y$) by default. */
  password: string;
  /** Soft-deleted (SoftDeletes' deleted_at set): Laravel's user provider no longer finds it. */
  deleted: boolean;
}

export interface PassportAccessToken {
  id: string;
  clientId: number;
  userId: number;
  scopes: string[];
  revoked: boolean;
  expiresAt: Date | null;
}

export interface PassportRefreshToken {
  id: string;
  accessTokenId: string;
  revoked: boolean;
  expiresAt: Date | null;
}

const CHUNK = 500;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function text(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

/** Passport stores scopes as a JSON array in a text column. */
function scopeList(value: unknown): string[] {
  if (typeof value !== 'string' || value === '') return [];
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

type Row = Record<string, unknown>;

/** Passport 13 lists a client's grants as a JSON array in a text column. */
function grantsPassword(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) && parsed.includes('password');
  } catch {
    return false;
  }
}

function clientColumns(layout: PassportLayout): string {
  return [
    'id',
    layout.userColumn ? 'user_id' : 'NULL AS user_id',
    'name',
    'secret',
    layout.passwordClient === 'password_client' ? 'password_client' : 'grant_types',
    'revoked',
    layout.provider ? 'provider' : 'NULL AS provider',
  ].join(', ');
}

function toClient(row: Row, layout: PassportLayout): PassportClient | null {
  const id = toId(row.id);
  if (id === null) return null;
  return {
    id,
    userId: toId(row.user_id),
    name: text(row.name),
    secret: row.secret === null || row.secret === undefined || row.secret === '' ? null : String(row.secret),
    passwordClient: layout.passwordClient === 'password_client' ? toBoolean(row.password_client) : grantsPassword(row.grant_types),
    revoked: toBoolean(row.revoked),
    provider: row.provider === null || row.provider === undefined || row.provider === '' ? null : String(row.provider),
  };
}

export async function readClients(source: PassportSource, layout: PassportLayout, ids: readonly number[]): Promise<Map<number, PassportClient>> {
  const clients = new Map<number, PassportClient>();
  for (const chunk of chunks(ids)) {
    const rows = await source.query<Row>(`SELECT ${clientColumns(layout)} FROM oauth_clients WHERE id IN (${placeholders(chunk.length)})`, chunk);
    for (const row of rows) {
      const client = toClient(row, layout);
      if (client) clients.set(client.id, client);
    }
  }
  return clients;
}

/** Every password-grant client Passport still accepts, in id order (a Passport database has few clients). */
export async function readActivePasswordClients(source: PassportSource, layout: PassportLayout): Promise<PassportClient[]> {
  const rows = await source.query<Row>(`SELECT ${clientColumns(layout)} FROM oauth_clients ORDER BY id`);
  return rows.flatMap((row) => {
    const client = toClient(row, layout);
    return client?.passwordClient && !client.revoked ? [client] : [];
  });
}

export async function readUsers(
  source: PassportSource,
  table: string,
  ids: readonly number[],
  softDeletes: boolean,
): Promise<Map<number, PassportUser>> {
  const users = new Map<number, PassportUser>();
  const deleted = softDeletes ? 'deleted_at' : 'NULL AS deleted_at';
  for (const chunk of chunks(ids)) {
    const rows = await source.query<Row>(
      `SELECT id, name, email, password, ${deleted} FROM ${source.quote(table)} WHERE id IN (${placeholders(chunk.length)})`,
      chunk,
    );
    for (const row of rows) {
      const id = toId(row.id);
      if (id === null) continue;
      users.set(id, { id, name: text(row.name), email: text(row.email), password: text(row.password), deleted: row.deleted_at != null });
    }
  }
  return users;
}

/** One page of the unexpired access tokens of `clientIds`, after `afterId` in the source's own order. */
export async function readAccessTokens(
  source: PassportSource,
  clientIds: readonly number[],
  now: Date,
  afterId: string | null,
  limit: number,
): Promise<PassportAccessToken[]> {
  if (clientIds.length === 0) return [];
  const params: unknown[] = [...clientIds, source.timestamp(now)];
  let after = '';
  if (afterId !== null) {
    after = 'AND id > ?';
    params.push(afterId);
  }
  params.push(limit);
  const rows = await source.query<Row>(
    `SELECT id, client_id, user_id, scopes, revoked, expires_at FROM oauth_access_tokens
     WHERE client_id IN (${placeholders(clientIds.length)}) AND user_id IS NOT NULL
       AND (expires_at IS NULL OR expires_at > ?) ${after}
     ORDER BY id LIMIT ?`,
    params,
  );
  const tokens: PassportAccessToken[] = [];
  for (const row of rows) {
    const clientId = toId(row.client_id);
    const userId = toId(row.user_id);
    if (clientId === null || userId === null) continue;
    tokens.push({
      id: text(row.id),
      clientId,
      userId,
      scopes: scopeList(row.scopes),
      revoked: toBoolean(row.revoked),
      expiresAt: source.toDate(row.expires_at),
    });
  }
  return tokens;
}

/** The unexpired refresh tokens issued with `accessTokenIds`. */
export async function readRefreshTokens(source: PassportSource, accessTokenIds: readonly string[], now: Date): Promise<PassportRefreshToken[]> {
  const tokens: PassportRefreshToken[] = [];
  for (const chunk of chunks(accessTokenIds)) {
    const rows = await source.query<Row>(
      `SELECT id, access_token_id, revoked, expires_at FROM oauth_refresh_tokens
       WHERE access_token_id IN (${placeholders(chunk.length)}) AND (expires_at IS NULL OR expires_at > ?)`,
      [...chunk, source.timestamp(now)],
    );
    for (const row of rows) {
      tokens.push({
        id: text(row.id),
        accessTokenId: text(row.access_token_id),
        revoked: toBoolean(row.revoked),
        expiresAt: source.toDate(row.expires_at),
      });
    }
  }
  return tokens;
}
