// Introspection of the access tokens Laravel Passport issued, while PASSPORT_PUBLIC_KEY
// is configured: RS256 JWTs (league/oauth2-server's AccessTokenTrait: aud = client id, jti =
// oauth_access_tokens.id, sub = user id, scopes, iat/nbf/exp). A token is active when its
// signature verifies under Passport's public key, exp/nbf hold (no leeway, as League's validator),
// its jti was imported and is not revoked, and its client and user are still active here and
// still each other's — the same rules, and the same answer members, as for our own tokens.
//
// Hot path: only tokens shaped like a JWT come here (ours never contain a dot). Revocation
// lookups are cached per jti for CACHE_TTL_MS, and the cache is dropped whenever clients change
// (an import, an admin change, a refresh-token exchange publish 'clients'). Accepted staleness:
// at most CACHE_TTL_MS when that notification is lost, none otherwise.
import { type KeyObject, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { compactVerify } from 'jose';
import type { ChangeEvents } from '../events.js';
import type { LegacyAccessRecord, LegacyTokensRepository } from '../repositories/legacy-tokens-repository.js';
import type { TokenClaims } from '../token-store/token-store.js';

export const CACHE_TTL_MS = 30_000;
export const MAX_CACHED = 10_000;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Three base64url segments. Cheap: our opaque tokens contain no dot and fail at once. */
export function looksLikeJwt(token: string): boolean {
  return token.includes('.') && JWT_SHAPE.test(token);
}

/**
 * PASSPORT_PUBLIC_KEY is either the PEM text itself (as a Kubernetes Secret in an environment
 * variable: real newlines or `\n` escapes) or the path of Passport's storage/oauth-public.key.
 */
export async function loadPassportPublicKey(value: string): Promise<KeyObject> {
  const pem = value.startsWith('-----BEGIN') ? value.replace(/\\n/g, '\n') : await readFile(value, 'utf8');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new Error('PASSPORT_PUBLIC_KEY: not a PEM public key (give the PEM text or the path of oauth-public.key)');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error('PASSPORT_PUBLIC_KEY: not an RSA key (Passport signs with RS256)');
  return key;
}

export interface LegacyAccessTokens {
  /** Claims for an active Passport token; null when inactive. Rejects when the database cannot answer. */
  verify(token: string): Promise<TokenClaims | null>;
}

export interface LegacyAccessTokensOptions {
  publicKey: KeyObject;
  repository: Pick<LegacyTokensRepository, 'findAccessToken'>;
  events: ChangeEvents;
  /** The configured scopes: Passport's `*` means all of them, as in a token request here. */
  scopes: readonly string[];
}

interface Cached {
  record: LegacyAccessRecord | null;
  until: number;
}

function scopeOf(payload: PassportClaims, known: readonly string[]): string {
  const scopes = Array.isArray(payload.scopes) ? payload.scopes.filter((s): s is string => typeof s === 'string') : [];
  return (scopes.includes('*') ? known : scopes).join(' ');
}

interface PassportClaims {
  jti: string;
  sub: string;
  aud: unknown;
  exp: number;
  iat: number;
  scopes: unknown;
}

/**
 * The signature (RS256 only), then lcobucci/jwt's LooseValidAt with no leeway, as League's
 * BearerTokenValidator applies it: iat ≤ now, nbf ≤ now, now < exp. Checked here with
 * millisecond precision because lcobucci writes fractional iat/nbf (microseconds), which a
 * whole-second clock (jose's jwtVerify) would take for "not yet valid" during their first second.
 */
async function verifiedPayload(token: string, key: KeyObject): Promise<PassportClaims | null> {
  let claims: Record<string, unknown>;
  try {
    const { payload } = await compactVerify(token, key, { algorithms: ['RS256'] });
    claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch {
    return null; // bad signature or malformed: simply not active
  }
  const { jti, sub, exp, iat, nbf } = claims;
  if (typeof jti !== 'string' || jti === '' || jti.length > 100 || typeof sub !== 'string') return null;
  if (typeof exp !== 'number' || typeof iat !== 'number' || (nbf !== undefined && typeof nbf !== 'number')) return null;
  const now = Date.now() / 1000;
  if (iat > now || (typeof nbf === 'number' && nbf > now) || now >= exp) return null;
  return { jti, sub, aud: claims.aud, exp, iat, scopes: claims.scopes };
}

export function createLegacyAccessTokens(options: LegacyAccessTokensOptions): LegacyAccessTokens {
  const cache = new Map<string, Cached>();
  options.events.subscribe('clients', () => cache.clear());

  const lookup = async (jti: string): Promise<LegacyAccessRecord | null> => {
    const now = Date.now();
    const hit = cache.get(jti);
    if (hit && hit.until > now) return hit.record;
    const record = await options.repository.findAccessToken(jti);
    cache.delete(jti);
    // Map order is insertion order: the first key is the oldest entry.
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(jti, { record, until: now + CACHE_TTL_MS });
    return record;
  };

  return {
    async verify(token) {
      const payload = await verifiedPayload(token, options.publicKey);
      if (!payload) return null;
      const { jti, sub, exp, iat } = payload;
      const record = await lookup(jti);
      if (!record || record.revoked || !record.usable) return null;
      if (record.expiresAt !== null && record.expiresAt.getTime() <= Date.now()) return null;
      // The JWT must be the imported token's: same client (aud) and same Passport user (sub).
      const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (audience.length !== 1 || audience[0] !== String(record.clientId) || sub !== String(record.passportUserId)) return null;
      return {
        jti,
        clientId: String(record.clientId),
        userId: String(record.userId),
        username: record.email,
        resellerId: record.resellerId,
        scope: scopeOf(payload, options.scopes),
        iat: Math.trunc(iat),
        exp: Math.trunc(exp),
        familyId: `passport:${jti}`,
      };
    },
  };
}
