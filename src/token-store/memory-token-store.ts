// The embedded default: the same semantics as the Redis store, in this process's memory.
// Expiry is checked on every read; a timer sweeps expired entries so memory stays bounded.
import { hashToken, type ConsumeResult, type TokenClaims, type TokenPair, type TokenStore } from './token-store.js';

interface Entry<T> {
  value: T;
  expiresAt: number;
}

interface StoredRefresh {
  claims: TokenClaims;
  accessHash: string;
}

interface Family {
  accessHash: string;
  refreshHash: string | undefined;
  userId: string;
  clientId: string;
}

export class MemoryTokenStore implements TokenStore {
  readonly #access = new Map<string, Entry<TokenClaims>>();
  readonly #refresh = new Map<string, Entry<StoredRefresh>>();
  readonly #used = new Map<string, Entry<string>>();
  readonly #families = new Map<string, Entry<Family>>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #byClient = new Map<string, Set<string>>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(
    private readonly now: () => number = Date.now,
    sweepIntervalMs = 60_000,
  ) {
    this.#sweeper = setInterval(() => this.#sweep(), sweepIntervalMs);
    this.#sweeper.unref();
  }

  async savePair(pair: TokenPair): Promise<void> {
    const accessHash = hashToken(pair.access.token);
    const claims = pair.access.claims;
    this.#access.set(accessHash, { value: claims, expiresAt: claims.exp * 1000 });
    let refreshHash: string | undefined;
    let familyExpiresAt = claims.exp * 1000;
    if (pair.refresh) {
      refreshHash = hashToken(pair.refresh.token);
      familyExpiresAt = pair.refresh.claims.exp * 1000;
      this.#refresh.set(refreshHash, { value: { claims: pair.refresh.claims, accessHash }, expiresAt: familyExpiresAt });
    }
    this.#families.set(claims.familyId, {
      value: { accessHash, refreshHash, userId: claims.userId, clientId: claims.clientId },
      expiresAt: familyExpiresAt,
    });
    index(this.#byUser, claims.userId, claims.familyId);
    index(this.#byClient, claims.clientId, claims.familyId);
  }

  async findAccessToken(token: string): Promise<TokenClaims | null> {
    return this.#get(this.#access, hashToken(token));
  }

  async findRefreshToken(token: string): Promise<TokenClaims | null> {
    return this.#get(this.#refresh, hashToken(token))?.claims ?? null;
  }

  async consumeRefreshToken(token: string): Promise<ConsumeResult> {
    const hash = hashToken(token);
    const entry = this.#refresh.get(hash);
    if (entry && entry.expiresAt > this.now()) {
      this.#refresh.delete(hash);
      this.#access.delete(entry.value.accessHash);
      this.#used.set(hash, { value: entry.value.claims.familyId, expiresAt: entry.expiresAt });
      return { status: 'consumed', claims: entry.value.claims };
    }
    const familyId = this.#get(this.#used, hash);
    if (familyId !== null) {
      await this.revokeFamily(familyId);
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

  async revokeRefreshToken(token: string): Promise<TokenClaims | null> {
    const hash = hashToken(token);
    const stored = this.#get(this.#refresh, hash);
    if (!stored) return null;
    this.#refresh.delete(hash);
    this.#access.delete(stored.accessHash);
    return stored.claims;
  }

  async revokeFamily(familyId: string): Promise<void> {
    const family = this.#families.get(familyId)?.value;
    this.#families.delete(familyId);
    if (!family) return;
    this.#access.delete(family.accessHash);
    if (family.refreshHash) this.#refresh.delete(family.refreshHash);
    this.#byUser.get(family.userId)?.delete(familyId);
    this.#byClient.get(family.clientId)?.delete(familyId);
  }

  async revokeUserTokens(userId: string): Promise<number> {
    return this.#revokeIndexed(this.#byUser, userId);
  }

  async revokeClientTokens(clientId: string): Promise<number> {
    return this.#revokeIndexed(this.#byClient, clientId);
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  async #revokeIndexed(indexMap: Map<string, Set<string>>, key: string): Promise<number> {
    const families = [...(indexMap.get(key) ?? [])];
    for (const familyId of families) await this.revokeFamily(familyId);
    indexMap.delete(key);
    return families.length;
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
    for (const map of [this.#access, this.#refresh, this.#used] as Map<string, Entry<unknown>>[]) {
      for (const [key, entry] of map) if (entry.expiresAt <= now) map.delete(key);
    }
    for (const [familyId, entry] of this.#families) {
      if (entry.expiresAt > now) continue;
      this.#families.delete(familyId);
      this.#byUser.get(entry.value.userId)?.delete(familyId);
      this.#byClient.get(entry.value.clientId)?.delete(familyId);
    }
  }
}

function index(map: Map<string, Set<string>>, key: string, familyId: string): void {
  const set = map.get(key) ?? new Set<string>();
  set.add(familyId);
  map.set(key, set);
}
