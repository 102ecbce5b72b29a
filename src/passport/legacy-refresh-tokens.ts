// Laravel Passport refresh tokens, exchangeable once for a token pair of ours. Passport
// hands out league/oauth2-server's refresh token: the JSON
//   {"client_id","refresh_token_id","access_token_id","scopes","user_id","expire_time"}
// sealed with defuse's Crypto::encryptWithPassword under Laravel's APP_KEY (Passport passes
// app('encrypter')->getKey(): the key's raw bytes, i.e. APP_KEY base64-decoded). Opening one
// costs a 100 000-iteration PBKDF2, so it runs off the event loop, a bounded number at a time,
// and only for an authenticated client presenting something shaped like a defuse ciphertext.
import pLimit from 'p-limit';
import type { ConsumedRefreshToken, LegacyTokensRepository } from '../repositories/legacy-tokens-repository.js';
import { DefuseDecryptionError, decryptWithPassword, looksLikeDefuseCiphertext } from './defuse.js';

export interface PassportRefreshPayload {
  refreshTokenId: string;
  accessTokenId: string;
  clientId: string;
  /** Passport's user id. */
  userId: string;
  scopes: string[];
  /** Seconds since the epoch. */
  expireTime: number;
}

export interface LegacyRefreshTokens {
  /** Cheap: could `presented` be a Passport refresh token at all? */
  accepts(presented: string): boolean;
  /** The payload, or null when it does not decrypt under APP_KEY or is not League's shape. */
  open(presented: string): Promise<PassportRefreshPayload | null>;
  /** Uses the token up (once only) and revokes its access token; null when revoked, used, expired or unknown. */
  consume(refreshTokenId: string, now: Date): Promise<ConsumedRefreshToken | null>;
}

/** Laravel's APP_KEY: `base64:` + the base64 key, or (old applications) the key text itself. */
export function parseLaravelAppKey(value: string): Buffer {
  const key = value.startsWith('base64:') ? Buffer.from(value.slice(7), 'base64') : Buffer.from(value, 'utf8');
  if (key.length !== 16 && key.length !== 32) throw new Error('PASSPORT_APP_KEY: Laravel keys are 16 or 32 bytes (APP_KEY=base64:…)');
  return key;
}

function identifier(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return typeof value === 'string' && value !== '' && value.length <= 100 ? value : null;
}

export function parseRefreshPayload(json: string): PassportRefreshPayload | null {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  const refreshTokenId = identifier(d.refresh_token_id);
  const accessTokenId = identifier(d.access_token_id);
  const clientId = identifier(d.client_id);
  const userId = identifier(d.user_id);
  const scopes = Array.isArray(d.scopes) ? d.scopes.filter((s): s is string => typeof s === 'string') : null;
  if (!refreshTokenId || !accessTokenId || !clientId || !userId || !scopes || typeof d.expire_time !== 'number') return null;
  return { refreshTokenId, accessTokenId, clientId, userId, scopes, expireTime: d.expire_time };
}

export function createLegacyRefreshTokens(options: {
  appKey: Buffer;
  repository: Pick<LegacyTokensRepository, 'consumeRefreshToken'>;
  /** Key derivations at once (HASH_CONCURRENCY): a refresh storm cannot take every core. */
  concurrency: number;
  /** After a token was used: the legacy access-token caches must drop it. */
  onConsumed(): Promise<void>;
}): LegacyRefreshTokens {
  const limit = pLimit(options.concurrency);
  return {
    accepts: looksLikeDefuseCiphertext,
    async open(presented) {
      try {
        const plaintext = await limit(() => decryptWithPassword(presented, options.appKey));
        return parseRefreshPayload(plaintext.toString('utf8'));
      } catch (err) {
        if (err instanceof DefuseDecryptionError) return null;
        throw err;
      }
    },
    async consume(refreshTokenId, now) {
      const consumed = await options.repository.consumeRefreshToken(refreshTokenId, now);
      if (consumed) await options.onConsumed();
      return consumed;
    },
  };
}
