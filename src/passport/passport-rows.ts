// Reads Laravel Passport 12's tables (oauth_clients, the users table, oauth_access_tokens,
// oauth_refresh_tokens) into plain rows. Batches are bounded: lists of ids are read in chunks,
// and tokens page through their primary key, so a Passport database with millions of tokens
// never sits in memory at once.
import { type PassportSource, placeholders, toBoolean, toId } from './source.js';

export interface PassportClient {
  id: number;
  userId: number | null;
  name: string;
  /** Plain text, or a bcrypt hash after Passport::hashClientSecrets(); null for a public client. */
  secret: string | null;
  passwordClient: boolean;
  revoked: boolean;
}

export interface PassportUser {
  id: number;
  name: string;
  email: string;
  /** Laravel's Hash: bcrypt ($2y$) by default. */
  password: string;
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

export async function readClients(source: PassportSource, ids: readonly number[]): Promise<Map<number, PassportClient>> {
  const clients = new Map<number, PassportClient>();
  for (const chunk of chunks(ids)) {
    const rows = await source.query<Row>(
      `SELECT id, user_id, name, secret, password_client, revoked FROM oauth_clients WHERE id IN (${placeholders(chunk.length)})`,
      chunk,
    );
    for (const row of rows) {
      const id = toId(row.id);
      if (id === null) continue;
      clients.set(id, {
        id,
        userId: toId(row.user_id),
        name: text(row.name),
        secret: row.secret === null || row.secret === undefined || row.secret === '' ? null : String(row.secret),
        passwordClient: toBoolean(row.password_client),
        revoked: toBoolean(row.revoked),
      });
    }
  }
  return clients;
}

export async function readUsers(source: PassportSource, table: string, ids: readonly number[]): Promise<Map<number, PassportUser>> {
  const users = new Map<number, PassportUser>();
  for (const chunk of chunks(ids)) {
    const rows = await source.query<Row>(
      `SELECT id, name, email, password FROM ${source.quote(table)} WHERE id IN (${placeholders(chunk.length)})`,
      chunk,
    );
    for (const row of rows) {
      const id = toId(row.id);
      if (id !== null) users.set(id, { id, name: text(row.name), email: text(row.email), password: text(row.password) });
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
