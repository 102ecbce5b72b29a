// The production token store on Redis (ioredis). Values and expiry are written in one command
// (SET … PXAT), multi-key changes run as Lua scripts, and the hot path is one GET.
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { DependencyUnavailableError } from '../errors.js';
import { CONSUME_REFRESH, REVOKE_FAMILY, REVOKE_INDEX, REVOKE_REFRESH, SAVE_PAIR } from './redis-scripts.js';
import { hashToken, type ConsumeResult, type TokenClaims, type TokenPair, type TokenStore } from './token-store.js';

interface StoredRefresh {
  c: TokenClaims;
  /** Hash of the access token issued with this refresh token. */
  a: string;
}

/**
 * Parsed access-token records by their stored text. A resource server introspects the same
 * token on every call it serves for that token's hour, so the same text comes back again and
 * again; its parse (and, downstream, the introspection answer built from the same object) is
 * done once. Keyed by the record read from Redis on every request, never by the token: what
 * Redis answers stays the only authority, and a revoked token is gone at its next lookup.
 * Bounded: 10,000 records of a few hundred bytes.
 */
const PARSED_RECORDS = 10_000;

/** Every failure to talk to Redis is the token store being unavailable (503, never "inactive"). */
function unavailable(err: unknown): never {
  throw new DependencyUnavailableError('token store', err);
}

interface Scripts {
  savePair(...args: (string | number)[]): Promise<number>;
  consumeRefresh(...args: string[]): Promise<[string, string?]>;
  revokeRefresh(...args: string[]): Promise<string | null>;
  revokeFamily(...args: string[]): Promise<number>;
  revokeIndex(...args: string[]): Promise<number>;
}

export interface RedisOptions {
  url: string;
  keyPrefix: string;
  onError?: (err: Error) => void;
}

export class RedisTokenStore implements TokenStore {
  readonly #redis: Redis;
  readonly #scripts: Scripts;
  readonly #prefix: string;
  readonly #parsed = new LRUCache<string, TokenClaims>({ max: PARSED_RECORDS });

  constructor(redis: Redis, keyPrefix: string) {
    this.#redis = redis;
    this.#prefix = keyPrefix;
    redis.defineCommand('raSavePair', { numberOfKeys: 5, lua: SAVE_PAIR });
    redis.defineCommand('raConsumeRefresh', { numberOfKeys: 2, lua: CONSUME_REFRESH });
    redis.defineCommand('raRevokeRefresh', { numberOfKeys: 1, lua: REVOKE_REFRESH });
    redis.defineCommand('raRevokeFamily', { numberOfKeys: 0, lua: REVOKE_FAMILY });
    redis.defineCommand('raRevokeIndex', { numberOfKeys: 1, lua: REVOKE_INDEX });
    const r = redis as unknown as Record<string, (...args: unknown[]) => Promise<never>>;
    this.#scripts = {
      savePair: (...a) => r.raSavePair!(...a),
      consumeRefresh: (...a) => r.raConsumeRefresh!(...a),
      revokeRefresh: (...a) => r.raRevokeRefresh!(...a),
      revokeFamily: (...a) => r.raRevokeFamily!(...a),
      revokeIndex: (...a) => r.raRevokeIndex!(...a),
    };
  }

  async savePair(pair: TokenPair): Promise<void> {
    const p = this.#prefix;
    const claims = pair.access.claims;
    const accessHash = hashToken(pair.access.token);
    const refreshHash = pair.refresh ? hashToken(pair.refresh.token) : '';
    const refreshValue = pair.refresh ? JSON.stringify({ c: pair.refresh.claims, a: accessHash } satisfies StoredRefresh) : '';
    await this.#call(() =>
      this.#scripts.savePair(
        `${p}at:${accessHash}`,
        pair.refresh ? `${p}rt:${refreshHash}` : `${p}rt:none`,
        `${p}fam:${claims.familyId}`,
        `${p}user:${claims.userId}`,
        `${p}client:${claims.clientId}`,
        JSON.stringify(claims),
        claims.exp * 1000,
        refreshValue,
        pair.refresh ? pair.refresh.claims.exp * 1000 : 0,
        accessHash,
        refreshHash,
        claims.familyId,
        Date.now(),
        claims.userId,
        claims.clientId,
      ),
    );
  }

  // The hot path: one promise on top of ioredis's, not the async layers of #call.
  findAccessToken(token: string): Promise<TokenClaims | null> {
    return this.#redis.get(`${this.#prefix}at:${hashToken(token)}`).then(this.#accessClaims, unavailable);
  }

  readonly #accessClaims = (value: string | null): TokenClaims | null => {
    if (value === null) return null;
    let claims = this.#parsed.get(value);
    if (claims === undefined) {
      // Frozen: one object is handed to every caller that reads the same record.
      claims = Object.freeze(JSON.parse(value) as TokenClaims);
      this.#parsed.set(value, claims);
    }
    return claims;
  };

  async findRefreshToken(token: string): Promise<TokenClaims | null> {
    const value = await this.#call(() => this.#redis.get(`${this.#prefix}rt:${hashToken(token)}`));
    return value === null ? null : (JSON.parse(value) as StoredRefresh).c;
  }

  async consumeRefreshToken(token: string): Promise<ConsumeResult> {
    const hash = hashToken(token);
    const [status, value] = await this.#call(() =>
      this.#scripts.consumeRefresh(`${this.#prefix}rt:${hash}`, `${this.#prefix}used:${hash}`, this.#prefix),
    );
    if (status === 'consumed' && value) return { status, claims: (JSON.parse(value) as StoredRefresh).c };
    if (status === 'reused' && value) return { status, familyId: value };
    return { status: 'unknown' };
  }

  async revokeAccessToken(token: string): Promise<TokenClaims | null> {
    const value = await this.#call(() => this.#redis.getdel(`${this.#prefix}at:${hashToken(token)}`));
    return value === null ? null : (JSON.parse(value) as TokenClaims);
  }

  async revokeRefreshToken(token: string): Promise<TokenClaims | null> {
    const value = await this.#call(() => this.#scripts.revokeRefresh(`${this.#prefix}rt:${hashToken(token)}`, this.#prefix));
    return value ? (JSON.parse(value) as StoredRefresh).c : null;
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.#call(() => this.#scripts.revokeFamily(this.#prefix, familyId));
  }

  async revokeUserTokens(userId: string): Promise<number> {
    return this.#call(() => this.#scripts.revokeIndex(`${this.#prefix}user:${userId}`, this.#prefix));
  }

  async revokeClientTokens(clientId: string): Promise<number> {
    return this.#call(() => this.#scripts.revokeIndex(`${this.#prefix}client:${clientId}`, this.#prefix));
  }

  async ping(): Promise<void> {
    await this.#call(() => this.#redis.ping());
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      unavailable(err);
    }
  }
}
