// The credentials of the resource servers allowed to introspect, held in this process (so
// that the introspection hot path touches neither PostgreSQL nor a slow hash). The cache maps the
// client id to the SHA-256 of the secret; a presented secret is hashed and compared in constant
// time, so the plain secrets never stay in memory after a load.
//
// Freshness (docs/revocation.md, "Resource servers"): the cache is trusted for a bounded time,
// `trustBoundMs` (the reload interval plus a margin), after the start of the last check that
// proved it current. Past that, introspection answers 503 rather than from a cache that may hold
// a removed resource server. A check proves the cache current when
// - a load from PostgreSQL succeeds (it started after every change made before it), or
// - with Redis, the registry marker (registry-version.ts) still has the value it had before the
//   last load read the database: no removal has been made since. This one small read keeps
//   introspection answering while only PostgreSQL is down without trusting the cache
//   past a removal it could not load.
// Every instance checks every `reloadIntervalMs`. A removal bumps the marker after its database
// commit and answers only `trustBoundMs` later (cutOff): by then every instance has either
// checked again (and seen the change) or stopped answering from its cache.
//
// The embedded database admits one process, so every change is made by this one (`exclusive`):
// no bound is needed, and a cut-off reloads the cache itself before it answers. PostgreSQL
// without Redis (development only: production requires REDIS_URL) has no marker and no bound,
// so that introspection keeps answering while the database is down: the only other
// writer is the CLI, whose removal waits out the reload interval like any other, and an instance
// that cannot read the database there keeps its last credentials.
//
// A change notification still makes every instance reload at once, and requests wait for that
// reload (at most RELOAD_WAIT_MS): a registration is usable everywhere at once.
import { hash, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DependencyUnavailableError } from '../errors.js';
import type { ChangeEvents } from '../events.js';
import { parseBasic } from '../oauth/client-credentials.js';
import type { ResourceServersRepository } from '../repositories/resource-servers-repository.js';
import type { SecretBox } from '../security/secret-box.js';
import type { RegistryVersion } from './registry-version.js';

export type CredentialDigests = Map<string, Buffer>;

export interface ResourceServerCredentials {
  /**
   * True when the HTTP Basic header (RFC 7617, RFC 6749 §2.3.1) received on `connection` holds a
   * registered resource server's client id and secret. A header that verified on the same
   * connection under the same credentials is recognised by a constant-time comparison with it,
   * without parsing and hashing it again. Synchronous except while a reload triggered by a
   * change notification is in flight, when it waits for that reload. Throws (or rejects with)
   * DependencyUnavailableError when the cache could not be proved current within `trustBoundMs`.
   */
  verifyAuthorization(authorization: string | undefined, connection: object): boolean | Promise<boolean>;
  /** Reloads from the database now; resolves once the new credentials are in force. */
  reload(): Promise<void>;
  /** Tells every instance, after its database commit, that a resource server was registered. */
  announceAddition(): Promise<void>;
  /**
   * Runs `commit`, the database change that cuts a resource server's access (a removal, a new
   * secret), and resolves with its result once no instance accepts the old credentials: the
   * registry marker is bumped before the commit (so an outage fails the call before anything
   * changes) and after it, every instance is notified, and `trustBoundMs` is waited out. A null
   * result (nothing to change) resolves at once. Rejects with DependencyUnavailableError when the
   * marker cannot be stored.
   */
  cutOff<T>(commit: () => Promise<T | null>): Promise<T | null>;
  /** How long a proof of freshness lasts; the time a cut-off waits before it is acknowledged. */
  readonly trustBoundMs: number;
  readonly size: number;
  close(): void;
}

export interface CredentialCacheOptions {
  /** Reads every resource server's client id and plain secret (from the database). */
  load(): Promise<Iterable<{ clientId: string; secret: string }>>;
  events: ChangeEvents;
  /** The registry marker in Redis; without it the cache is not bounded (see the top). */
  version?: RegistryVersion;
  /**
   * This process is the registry's only writer (the embedded database, locked to one process):
   * every change is made here, so the cache needs no bound; a cut-off reloads it before it answers.
   */
  exclusive?: boolean;
  reloadIntervalMs: number;
  /** Added to the interval for `trustBoundMs`; TRUST_MARGIN_MS unless a test needs another. */
  trustMarginMs?: number;
  onError(err: unknown, context: string): void;
}

/** How long a request may wait for a notification-triggered reload before using the old credentials. */
export const RELOAD_WAIT_MS = 2000;

/**
 * What a check may take, and a timer may run late, before the proof it renews runs out: the Redis
 * command bound (redis/connection.ts), so a healthy instance never lapses between two checks.
 */
export const TRUST_MARGIN_MS = 2000;

/** One-shot hashing: no Hash object per call, which the hot path would pay for in allocation and GC. */
export function digestSecret(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

/** The cause of a 503 from a cache that could not be proved current (logged by the error handler). */
const NOT_CONFIRMED = new Error('resource server credentials not confirmed current within their bound');

// Compared against when the client id is unknown, so both outcomes cost one hash and one comparison.
const UNKNOWN = digestSecret('no resource server has this secret');

/** The loader over the repository: a secret that cannot be opened (unknown key) is skipped and reported. */
export function resourceServerSecrets(
  repository: ResourceServersRepository,
  box: SecretBox,
  onError: (err: unknown, context: string) => void,
): CredentialCacheOptions['load'] {
  return async () => {
    const credentials: { clientId: string; secret: string }[] = [];
    for (const server of await repository.list()) {
      if (!server.secret) continue;
      try {
        credentials.push({ clientId: String(server.clientId), secret: box.open(server.secret) });
      } catch (err) {
        onError(err, `resource server ${server.clientId}: its secret cannot be decrypted with SECRET_KEY; it cannot introspect`);
      }
    }
    return credentials;
  };
}

/** The header that last verified on a connection, and the credentials generation it verified under. */
interface VerifiedHeader {
  header: Buffer;
  generation: number;
}

export async function createResourceServerCredentials(options: CredentialCacheOptions): Promise<ResourceServerCredentials> {
  const { version, events } = options;
  const trustBoundMs = options.reloadIntervalMs + (options.trustMarginMs ?? TRUST_MARGIN_MS);
  let digests: CredentialDigests = new Map();
  // Bumped whenever the credentials are replaced: every remembered header then verifies anew,
  // so a rotated secret or a removed resource server stops working on open connections too.
  let generation = 0;
  // A resource server sends the same header on every request of a keep-alive connection. Keyed
  // by the connection (not by the header, which would make the secret a lookup key) and held
  // weakly: a closed connection takes its entry with it. A proxy that multiplexes several
  // callers over one connection costs the full check whenever the header changes, nothing more.
  const verifiedOn = new WeakMap<object, VerifiedHeader>();
  let running: Promise<void> | undefined;
  let again = false;
  let waiting: Promise<void> | undefined;
  let closed = false;
  // The marker read before the database read of the credentials in force (undefined: unknown).
  let loadedVersion: string | undefined;
  // Monotonic (performance.now()): a wall-clock step must neither extend nor cut the bound.
  let trustedUntil = 0;
  // What kept the last check from proving freshness: named by the 503.
  let lastFailure: DependencyUnavailableError['dependency'] = 'database';

  // Bounded only where the marker can prove freshness while PostgreSQL is down: see the top.
  const bounded = version !== undefined && !options.exclusive;
  const trust = (checkStartedAt: number) => {
    trustedUntil = bounded ? Math.max(trustedUntil, checkStartedAt + trustBoundMs) : Number.POSITIVE_INFINITY;
  };

  const readVersion = async (): Promise<string | undefined> => {
    try {
      return await version?.read();
    } catch {
      lastFailure = 'token store';
      return undefined;
    }
  };

  const loadOnce = async () => {
    const startedAt = performance.now();
    // Read before the database: a marker seen here was bumped after its change was committed.
    const seen = await readVersion();
    const next: CredentialDigests = new Map();
    try {
      for (const { clientId, secret } of await options.load()) next.set(clientId, digestSecret(secret));
    } catch (err) {
      lastFailure = 'database';
      throw err;
    }
    digests = next;
    generation++;
    loadedVersion = seen;
    trust(startedAt);
  };

  // One reload at a time; a request for another while one runs (its query may have read the
  // rows before the change) schedules exactly one more after it.
  const reload = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await loadOnce();
        } while (again && !closed);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  // Independent of a reload in flight: a hung database must not stop the marker's proof.
  const confirmByVersion = async () => {
    if (!version || loadedVersion === undefined) return;
    const startedAt = performance.now();
    const current = await readVersion();
    if (current !== undefined && current === loadedVersion) trust(startedAt);
  };

  const check = (clientId: string, secret: string): boolean => {
    const expected = digests.get(clientId);
    return timingSafeEqual(digestSecret(secret), expected ?? UNKNOWN) && expected !== undefined;
  };

  const checkAuthorization = (authorization: string | undefined, connection: object): boolean => {
    // Never answer from a cache that may hold a resource server removed since (see the top).
    if (performance.now() >= trustedUntil) throw new DependencyUnavailableError(lastFailure, NOT_CONFIRMED);
    if (authorization === undefined) return false;
    const known = verifiedOn.get(connection);
    // Headers are latin1 strings in Node: one byte per character, so equal lengths are equal byte lengths.
    if (known !== undefined && known.generation === generation && known.header.length === authorization.length) {
      if (timingSafeEqual(Buffer.from(authorization, 'latin1'), known.header)) return true;
    }
    const basic = parseBasic(authorization);
    if (basic === null || basic === 'malformed' || !check(basic.id, basic.secret)) return false;
    verifiedOn.set(connection, { header: Buffer.from(authorization, 'latin1'), generation });
    return true;
  };

  const onChange = () => {
    if (closed) return;
    const done = reload().catch((err) => options.onError(err, 'resource server credentials reload after a change failed'));
    const bounded = Promise.race([done, new Promise<void>((resolve) => setTimeout(resolve, RELOAD_WAIT_MS).unref())]);
    const mine = bounded.then(() => {
      if (waiting === mine) waiting = undefined;
    });
    waiting = mine;
  };

  events.subscribe('resource-servers', onChange);
  await reload();
  const timer = setInterval(() => {
    void confirmByVersion();
    reload().catch((err) => options.onError(err, 'periodic resource server credentials reload failed'));
  }, options.reloadIntervalMs);
  timer.unref();

  return {
    verifyAuthorization(authorization, connection) {
      return waiting ? waiting.then(() => checkAuthorization(authorization, connection)) : checkAuthorization(authorization, connection);
    },
    reload,
    async announceAddition() {
      await events.publish('resource-servers');
    },
    async cutOff(commit) {
      await version?.bump();
      const result = await commit();
      if (result === null) return result;
      if (options.exclusive) {
        // No other instance: in force here (or a rejection, answered 503) before the answer.
        await reload();
        await events.publish('resource-servers');
        return result;
      }
      await version?.bump();
      await events.publish('resource-servers');
      // Every instance's last proof from before this bump (without Redis: before the commit) runs
      // out within trustBoundMs; any later one saw the change.
      await sleep(trustBoundMs);
      return result;
    },
    trustBoundMs,
    get size() {
      return digests.size;
    },
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
