// Imports the ids and revocation flags of Passport's unexpired access and refresh tokens of the
// imported (client, user) pairs, inside the transaction of the batch that imports them, page by page. Revocation is
// sticky: a flag set here (by Passport earlier, or by a refresh-token exchange here) is never
// cleared by a later import, because Passport never un-revokes a token either. A token that has
// vanished from Passport (passport:purge) is revoked: Passport answers an unknown id as revoked.
import { Prisma } from '../generated/prisma/client.js';
import { type PassportAccessToken, readAccessTokens, readRefreshTokens } from './passport-rows.js';
import type { PassportSource } from './source.js';

type Tx = Prisma.TransactionClient;

export interface TokenImportCounts {
  accessTokensAdded: number;
  accessTokensRevoked: number;
  refreshTokensAdded: number;
  refreshTokensRevoked: number;
  expiredRemoved: number;
  /** Tokens of an imported client issued to a user other than its reseller's: not imported. */
  skipped: number;
}

export function noTokenCounts(): TokenImportCounts {
  return { accessTokensAdded: 0, accessTokensRevoked: 0, refreshTokensAdded: 0, refreshTokensRevoked: 0, expiredRemoved: 0, skipped: 0 };
}

const PAGE = 1000;
/** A bound on the loop, far above any real Passport database (PAGE × this many tokens). */
const MAX_PAGES = 100_000;

export async function importTokens(
  tx: Tx,
  source: PassportSource,
  pairs: readonly { clientId: number; passportUserId: number }[],
  ourUserIds: Map<number, number>,
  now: Date,
): Promise<TokenImportCounts> {
  const counts = noTokenCounts();
  if (pairs.length === 0) return counts;
  const clientIds = [...new Set(pairs.map((p) => p.clientId))];
  const userOfClient = new Map(pairs.map((p) => [p.clientId, p.passportUserId]));
  await tx.$executeRawUnsafe('CREATE TEMP TABLE passport_seen_tokens (id varchar(100) PRIMARY KEY) ON COMMIT DROP');

  let after: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const batch = await readAccessTokens(source, clientIds, now, after, PAGE);
    if (batch.length === 0) break;
    after = batch[batch.length - 1]?.id ?? null;
    const wanted: PassportAccessToken[] = [];
    for (const token of batch) {
      const ourUserId = ourUserIds.get(token.userId);
      if (userOfClient.get(token.clientId) === token.userId && ourUserId !== undefined) wanted.push(token);
      else counts.skipped += 1;
    }
    await importAccessPage(tx, wanted, ourUserIds, counts);
    await importRefreshPage(tx, source, wanted, now, counts);
    if (batch.length < PAGE) break;
  }

  // Vanished from Passport while still unexpired: revoked there, so revoked here.
  counts.accessTokensRevoked += await tx.$executeRaw`
    UPDATE legacy_access_tokens SET revoked = true
    WHERE NOT revoked AND client_id = ANY(${clientIds}) AND (expires_at IS NULL OR expires_at > ${now})
      AND id NOT IN (SELECT id FROM passport_seen_tokens)`;
  counts.refreshTokensRevoked += await tx.$executeRaw`
    UPDATE legacy_refresh_tokens r SET revoked = true
    FROM legacy_access_tokens a
    WHERE a.id = r.access_token_id AND NOT r.revoked AND a.client_id = ANY(${clientIds})
      AND (r.expires_at IS NULL OR r.expires_at > ${now}) AND r.id NOT IN (SELECT id FROM passport_seen_tokens)`;
  return counts;
}

/** Housekeeping, once a run: an expired token can never be accepted again. Returns how many went. */
export async function removeExpiredTokens(tx: Tx, now: Date): Promise<number> {
  const refresh = await tx.$executeRaw`DELETE FROM legacy_refresh_tokens WHERE expires_at <= ${now}`;
  return refresh + (await tx.$executeRaw`DELETE FROM legacy_access_tokens WHERE expires_at <= ${now}`);
}

export function addTokenCounts(total: TokenImportCounts, more: TokenImportCounts): void {
  for (const key of Object.keys(total) as (keyof TokenImportCounts)[]) total[key] += more[key];
}

async function markSeen(tx: Tx, ids: string[]): Promise<void> {
  if (ids.length > 0) await tx.$executeRaw`INSERT INTO passport_seen_tokens (id) SELECT unnest(${ids}::varchar[]) ON CONFLICT DO NOTHING`;
}

// Pages are written with one statement each over arrays (unnest), not row by row through the
// ORM: tens of thousands of tokens go through here, and their cost decides the import's speed.

/** Which of `ids` we hold, with their revocation flags. */
async function existingFlags(tx: Tx, table: 'legacy_access_tokens' | 'legacy_refresh_tokens', ids: string[]): Promise<Map<string, boolean>> {
  // The table name is one of two literals (the parameter's type), never input.
  const rows = await tx.$queryRaw<{ id: string; revoked: boolean }[]>`SELECT id, revoked FROM ${Prisma.raw(table)} WHERE id = ANY(${ids}::varchar[])`;
  return new Map(rows.map((r) => [r.id, r.revoked]));
}

const isoOrNull = (date: Date | null) => (date === null ? null : date.toISOString());

async function importAccessPage(tx: Tx, tokens: PassportAccessToken[], ourUserIds: Map<number, number>, counts: TokenImportCounts): Promise<void> {
  const ids = tokens.map((t) => t.id);
  await markSeen(tx, ids);
  const existing = await existingFlags(tx, 'legacy_access_tokens', ids);
  const fresh = tokens.filter((t) => !existing.has(t.id));
  if (fresh.length > 0) {
    counts.accessTokensAdded += await tx.$executeRaw`
      INSERT INTO legacy_access_tokens (id, client_id, user_id, scopes, revoked, expires_at)
      SELECT t.id, t.client_id, t.user_id, ARRAY(SELECT jsonb_array_elements_text(t.scopes::jsonb)), t.revoked, t.expires_at
      FROM unnest(${fresh.map((t) => t.id)}::varchar[], ${fresh.map((t) => t.clientId)}::int[],
                  ${fresh.map((t) => ourUserIds.get(t.userId) as number)}::int[], ${fresh.map((t) => JSON.stringify(t.scopes))}::text[],
                  ${fresh.map((t) => t.revoked)}::boolean[], ${fresh.map((t) => isoOrNull(t.expiresAt))}::timestamptz[])
        AS t(id, client_id, user_id, scopes, revoked, expires_at)`;
  }
  const revoke = tokens.filter((t) => t.revoked && existing.get(t.id) === false).map((t) => t.id);
  if (revoke.length > 0)
    counts.accessTokensRevoked += await tx.$executeRaw`UPDATE legacy_access_tokens SET revoked = true WHERE id = ANY(${revoke}::varchar[])`;
}

async function importRefreshPage(tx: Tx, source: PassportSource, access: PassportAccessToken[], now: Date, counts: TokenImportCounts): Promise<void> {
  if (access.length === 0) return;
  const tokens = await readRefreshTokens(
    source,
    access.map((t) => t.id),
    now,
  );
  const ids = tokens.map((t) => t.id);
  await markSeen(tx, ids);
  const existing = await existingFlags(tx, 'legacy_refresh_tokens', ids);
  const fresh = tokens.filter((t) => !existing.has(t.id));
  if (fresh.length > 0) {
    counts.refreshTokensAdded += await tx.$executeRaw`
      INSERT INTO legacy_refresh_tokens (id, access_token_id, revoked, expires_at)
      SELECT * FROM unnest(${fresh.map((t) => t.id)}::varchar[], ${fresh.map((t) => t.accessTokenId)}::varchar[],
                           ${fresh.map((t) => t.revoked)}::boolean[], ${fresh.map((t) => isoOrNull(t.expiresAt))}::timestamptz[])`;
  }
  const revoke = tokens.filter((t) => t.revoked && existing.get(t.id) === false).map((t) => t.id);
  if (revoke.length > 0)
    counts.refreshTokensRevoked += await tx.$executeRaw`UPDATE legacy_refresh_tokens SET revoked = true WHERE id = ANY(${revoke}::varchar[])`;
}
