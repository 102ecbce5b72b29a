// The embedded default: the same semantics as the Redis store, in this process's memory. Each
// method runs to completion without awaiting, so every change is atomic, as a Lua script is.
// Expiry is checked on every read; a timer sweeps expired entries so memory stays bounded.
import {
  type ConsumeResult,
  FAMILY_TOMBSTONE_MS,
  familyOf,
  hashToken,
  type RefreshRevocation,
  type TokenClaims,
  type TokenPair,
  type TokenStore,
} from './token-store.js';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

interface StoredRefresh {
  claims: TokenClaims;
  accessHash: string;
}

interface Family {
  accessHash: string | undefined;
  refreshHash: string | undefined;
  clientId: string | undefined;
  /** A revoked family: nothing may be saved into it any more. */
  dead: boolean;
}

export class MemoryTokenStore implements TokenStore {
  readonly #access = new Map<string, Entry<TokenClaims>>();
  readonly #refresh = new Map<string, Entry<StoredRefresh>>();
  /** Rotated refresh tokens: hash → family id, until the token would have expired. */
  readonly #used = new Map<string, Entry<string>>();
  readonly #families = new Map<string, Entry<Family>>();
  readonly #byClient = new Map<string, Map<string, number>>();
  readonly #generations = new Map<string, number>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(
    private readonly now: () => number = Date.now,
    sweepIntervalMs = 60_000,
  ) {
    this.#sweeper = setInterval(() => this.#sweep(), sweepIntervalMs);
    this.#sweeper.unref();
  }

  async clientGeneration(clientId: string): Promise<string> {
    return String(this.#generations.get(clientId) ?? 0);
  }

  async savePair(pair: TokenPair, generation: string): Promise<boolean> {
    const claims = pair.access.claims;
    const familyId = claims.familyId;
    const existing = this.#get(this.#families, familyId);
    if (existing?.dead) return false;
    if (generation !== (await this.clientGeneration(claims.clientId))) {
      this.#kill(familyId);
      return false;
    }
    const accessHash = hashToken(pair.access.token);
    this.#access.set(accessHash, { value: claims, expiresAt: claims.exp * 1000 });
    let refreshHash: string | undefined;
    let familyExpiresAt = claims.exp * 1000;
    if (pair.refresh) {
      refreshHash = hashToken(pair.refresh.token);
      familyExpiresAt = pair.refresh.claims.exp * 1000;
      this.#refresh.set(refreshHash, { value: { claims: pair.refresh.claims, accessHash }, expiresAt: familyExpiresAt });
    }
    this.#families.set(familyId, {
      value: { accessHash, refreshHash, clientId: claims.clientId, dead: false },
      expiresAt: familyExpiresAt,
    });
    const index = this.#byClient.get(claims.clientId) ?? new Map<string, number>();
    index.set(familyId, familyExpiresAt);
    this.#byClient.set(claims.clientId, index);
    return true;
  }

  async findAccessToken(token: string): Promise<TokenClaims | null> {
    return this.#get(this.#access, hashToken(token));
  }

  async findRefreshToken(token: string): Promise<TokenClaims | null> {
    return this.#get(this.#refresh, hashToken(token))?.claims ?? null;
  }

  async consumeRefreshToken(token: string): Promise<ConsumeResult> {
    const hash = hashToken(token);
    const stored = this.#get(this.#refresh, hash);
    if (stored) {
      const expiresAt = (this.#refresh.get(hash) as Entry<StoredRefresh>).expiresAt;
      this.#refresh.delete(hash);
      this.#access.delete(stored.accessHash);
      this.#used.set(hash, { value: stored.claims.familyId, expiresAt });
      return { status: 'consumed', claims: stored.claims };
    }
    const familyId = this.#get(this.#used, hash);
    if (familyId !== null) {
      this.#kill(familyId);
      return { status: 'reused', familyId };
    }
    return { status: 'unknown' };
  }

  async revokeAccessToken(token: string): Promise<TokenClaims | null> {
    const hash = hashToken(token);
    const claims = this.#get(this.#access, hash);
    this.#access.delete(hash);
    return claims;
  }

  async revokeRefreshToken(token: string, clientId: string): Promise<RefreshRevocation> {
    const hash = hashToken(token);
    const familyId = this.#get(this.#refresh, hash)?.claims.familyId ?? this.#get(this.#used, hash);
    const family = familyId === null || familyId !== familyOf(token) ? null : this.#get(this.#families, familyId);
    if (familyId === null || family === null) return 'unknown';
    if (family.clientId !== clientId) return 'other_client';
    this.#kill(familyId);
    return 'revoked';
  }

  async revokeFamily(familyId: string): Promise<void> {
    this.#kill(familyId);
  }

  async revokeClientTokens(clientId: string): Promise<number> {
    this.#generations.set(clientId, (this.#generations.get(clientId) ?? 0) + 1);
    const families = [...(this.#byClient.get(clientId)?.keys() ?? [])];
    for (const familyId of families) this.#kill(familyId);
    this.#byClient.delete(clientId);
    return families.length;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  /** Deletes the family's live pair and leaves a tombstone that outlives any grant in flight. */
  #kill(familyId: string): void {
    const entry = this.#families.get(familyId);
    const family = entry && entry.expiresAt > this.now() ? entry.value : undefined;
    if (family?.accessHash) this.#access.delete(family.accessHash);
    if (family?.refreshHash) this.#refresh.delete(family.refreshHash);
    const expiresAt = Math.max(entry?.expiresAt ?? 0, this.now() + FAMILY_TOMBSTONE_MS);
    this.#families.set(familyId, {
      value: { accessHash: undefined, refreshHash: undefined, clientId: family?.clientId, dead: true },
      expiresAt,
    });
  }

  #get<T>(map: Map<string, Entry<T>>, key: string): T | null {
    const entry = map.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= this.now()) {
      map.delete(key);
      return null;
    }
    return entry.value;
  }

  #sweep(): void {
    const now = this.now();
    for (const map of [this.#access, this.#refresh, this.#used, this.#families] as Map<string, Entry<unknown>>[]) {
      for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key);
    }
    for (const [clientId, index] of this.#byClient) {
      for (const [familyId, expiresAt] of index) if (expiresAt <= now) index.delete(familyId);
      if (index.size === 0) this.#byClient.delete(clientId);
    }
  }
}
