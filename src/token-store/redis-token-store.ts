// The production token store on Redis (ioredis): standalone, Sentinel or Cluster. Values and
// expiry are written in one command (SET … PXAT), changes run as Lua scripts that each touch one
// hash slot (redis-scripts.ts lays the keys out), and the hot path is one GET.
import type { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { DependencyUnavailableError } from '../errors.js';
import { CONSUME_REFRESH, CUT_OFF, INDEX_FAMILY, REVOKE_FAMILY, REVOKE_REFRESH, SAVE_PAIR } from './redis-scripts.js';
import {
  type ConsumeResult,
  FAMILY_TOMBSTONE_MS,
  familyOf,
  hashToken,
  isFamilyId,
  type RefreshRevocation,
  type TokenClaims,
  type TokenPair,
  type TokenStore,
} from './token-store.js';

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

type Script = (...args: (string | number)[]) => Promise<unknown>;
type ScriptName = 'savePair' | 'indexFamily' | 'cutOff' | 'revokeFamily' | 'consumeRefresh' | 'revokeRefresh';

export interface RedisOptions {
  url: string;
  keyPrefix: string;
  onError?: (err: Error) => void;
}

export interface RedisTokenStoreOptions {
  keyPrefix: string;
  /**
   * A second client for the writes that must survive a failover: revocations, cut-offs, reuse
   * detection and the index entry that lets a cut-off find a new family. WAIT blocks the
   * connection it is sent on until replicas caught up, so these writes and their WAIT go on a
   * connection of their own, and introspection's GETs never queue behind one. Absent: `redis`.
   */
  durableClient?: Redis | Cluster;
  /**
   * Resolves once the durable client's writes to `keys` are on enough replicas, and rejects when
   * they cannot be made durable in time (WAIT; docs/redis.md). A revocation is acknowledged only
   * after it, so a failover cannot bring a revoked token back. Absent: acknowledged as applied.
   */
  confirmDurable?: (client: Redis | Cluster, keys: string[]) => Promise<void>;
}

export class RedisTokenStore implements TokenStore {
  readonly #redis: Redis | Cluster;
  readonly #durableClient: Redis | Cluster;
  readonly #prefix: string;
  readonly #confirmDurable: (client: Redis | Cluster, keys: string[]) => Promise<void>;
  readonly #parsed = new LRUCache<string, TokenClaims>({ max: PARSED_RECORDS });
  /** Scripts on the main connection (the pair's save). */
  readonly #scripts: Record<ScriptName, Script>;
  /** Scripts on the durable connection (revocations and the family index). */
  readonly #durableScripts: Record<ScriptName, Script>;

  constructor(redis: Redis | Cluster, options: RedisTokenStoreOptions) {
    this.#redis = redis;
    this.#durableClient = options.durableClient ?? redis;
    this.#prefix = options.keyPrefix;
    this.#confirmDurable = options.confirmDurable ?? (async () => {});
    this.#scripts = defineScripts(redis);
    this.#durableScripts = this.#durableClient === redis ? this.#scripts : defineScripts(this.#durableClient);
  }

  /** The family's hash; its other keys start with `${family}:`. */
  #family(familyId: string): string {
    return `${this.#prefix}{f:${familyId}}`;
  }

  #client(clientId: string): { gen: string; fams: string } {
    const tag = `${this.#prefix}{c:${clientId}}`;
    return { gen: `${tag}:gen`, fams: `${tag}:fams` };
  }

  async clientGeneration(clientId: string): Promise<string> {
    return (await this.#call(() => this.#redis.get(this.#client(clientId).gen))) ?? '0';
  }

  async savePair(pair: TokenPair, generation: string): Promise<boolean> {
    const claims = pair.access.claims;
    const family = this.#family(claims.familyId);
    const client = this.#client(claims.clientId);
    const accessHash = hashToken(pair.access.token);
    const refreshHash = pair.refresh ? hashToken(pair.refresh.token) : '';
    const familyExpMs = (pair.refresh ?? pair.access).claims.exp * 1000;
    // Both at once (one round trip with auto-pipelining; two slots on a cluster). Their order does
    // not matter: a cut-off that sees the family in the index kills it (and the tombstone refuses
    // a save that comes later); one that does not has bumped the generation this answers.
    const [saved, current] = await this.#call(() =>
      Promise.all([
        this.#scripts.savePair(
          family,
          `${family}:at:${accessHash}`,
          pair.refresh ? `${family}:rt:${refreshHash}` : `${family}:at:${accessHash}`,
          JSON.stringify(claims),
          claims.exp * 1000,
          pair.refresh ? JSON.stringify({ c: pair.refresh.claims, a: accessHash } satisfies StoredRefresh) : '',
          pair.refresh ? pair.refresh.claims.exp * 1000 : 0,
          accessHash,
          refreshHash,
          claims.clientId,
        ),
        this.#indexFamily(client, claims.familyId, familyExpMs),
      ]),
    );
    if (saved === 1 && current === generation) return true;
    if (saved === 1) await this.revokeFamily(claims.familyId);
    return false;
  }

  /**
   * Indexes the family under its client and answers the client's generation. The entry is made
   * durable before the pair is handed out: a cut-off after a failover must still find the family.
   */
  async #indexFamily(client: { gen: string; fams: string }, familyId: string, familyExpMs: number): Promise<unknown> {
    const generation = await this.#durableScripts.indexFamily(client.gen, client.fams, familyId, familyExpMs, Date.now());
    await this.#confirmDurable(this.#durableClient, [client.fams]);
    return generation;
  }

  // The hot path: one promise on top of ioredis's, not the async layers of #call.
  findAccessToken(token: string): Promise<TokenClaims | null> {
    const familyId = familyOf(token);
    if (familyId === null) return Promise.resolve(null);
    return this.#redis.get(`${this.#family(familyId)}:at:${hashToken(token)}`).then(this.#accessClaims, unavailable);
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
    const familyId = familyOf(token);
    if (familyId === null) return null;
    const value = await this.#call(() => this.#redis.get(`${this.#family(familyId)}:rt:${hashToken(token)}`));
    return value === null ? null : (JSON.parse(value) as StoredRefresh).c;
  }

  async consumeRefreshToken(token: string): Promise<ConsumeResult> {
    const familyId = familyOf(token);
    if (familyId === null) return { status: 'unknown' };
    const family = this.#family(familyId);
    const hash = hashToken(token);
    const [status, value] = (await this.#call(() =>
      this.#durableScripts.consumeRefresh(`${family}:rt:${hash}`, `${family}:used:${hash}`, family, `${family}:`, FAMILY_TOMBSTONE_MS),
    )) as [string, string?];
    if (status === 'consumed' && value) return { status, claims: (JSON.parse(value) as StoredRefresh).c };
    if (status === 'reused') {
      await this.#durable([family]);
      return { status, familyId };
    }
    return { status: 'unknown' };
  }

  async revokeAccessToken(token: string): Promise<TokenClaims | null> {
    const familyId = familyOf(token);
    if (familyId === null) return null;
    const key = `${this.#family(familyId)}:at:${hashToken(token)}`;
    const value = await this.#call(() => this.#durableClient.getdel(key));
    if (value !== null) await this.#durable([key]);
    return value === null ? null : (JSON.parse(value) as TokenClaims);
  }

  async revokeRefreshToken(token: string, clientId: string): Promise<RefreshRevocation> {
    const familyId = familyOf(token);
    if (familyId === null) return 'unknown';
    const family = this.#family(familyId);
    const hash = hashToken(token);
    const outcome = (await this.#call(() =>
      this.#durableScripts.revokeRefresh(`${family}:rt:${hash}`, `${family}:used:${hash}`, family, `${family}:`, FAMILY_TOMBSTONE_MS, clientId),
    )) as RefreshRevocation;
    if (outcome === 'revoked') await this.#durable([family]);
    return outcome;
  }

  async revokeFamily(familyId: string): Promise<void> {
    if (!isFamilyId(familyId)) return;
    const family = this.#family(familyId);
    await this.#call(() => this.#durableScripts.revokeFamily(family, `${family}:`, FAMILY_TOMBSTONE_MS));
    await this.#durable([family]);
  }

  async revokeClientTokens(clientId: string): Promise<number> {
    const client = this.#client(clientId);
    const families = (await this.#call(() => this.#durableScripts.cutOff(client.gen, client.fams))) as string[];
    // Family by family (each in its own slot); a failure part-way fails the cut-off, and calling
    // it again revokes the rest (the index keeps every family until it is revoked).
    const keys = families.filter(isFamilyId).map((familyId) => this.#family(familyId));
    await this.#call(() => Promise.all(keys.map((family) => this.#durableScripts.revokeFamily(family, `${family}:`, FAMILY_TOMBSTONE_MS))));
    await this.#durable([client.gen, ...keys]);
    if (families.length > 0) await this.#call(() => this.#durableClient.zrem(client.fams, ...families));
    return families.length;
  }

  async ping(): Promise<void> {
    await this.#call(() => Promise.all([this.#redis.ping(), this.#durableClient.ping()]));
  }

  async close(): Promise<void> {
    const clients = this.#durableClient === this.#redis ? [this.#redis] : [this.#redis, this.#durableClient];
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  }

  async #durable(keys: string[]): Promise<void> {
    await this.#call(() => this.#confirmDurable(this.#durableClient, keys));
  }

  async #call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      unavailable(err);
    }
  }
}

/** The scripts defined on `client` (EVALSHA, loaded on first use), as functions. */
function defineScripts(client: Redis | Cluster): Record<ScriptName, Script> {
  const scripts: Record<ScriptName, [number, string]> = {
    savePair: [3, SAVE_PAIR],
    indexFamily: [2, INDEX_FAMILY],
    cutOff: [2, CUT_OFF],
    revokeFamily: [1, REVOKE_FAMILY],
    consumeRefresh: [3, CONSUME_REFRESH],
    revokeRefresh: [3, REVOKE_REFRESH],
  };
  const commands = client as unknown as Record<string, Script>;
  const bound: Partial<Record<ScriptName, Script>> = {};
  for (const [name, [numberOfKeys, lua]] of Object.entries(scripts) as [ScriptName, [number, string]][]) {
    const command = `ra_${name}`;
    client.defineCommand(command, { numberOfKeys, lua });
    bound[name] = (...args) => (commands[command] as Script)(...args);
  }
  return bound as Record<ScriptName, Script>;
}
