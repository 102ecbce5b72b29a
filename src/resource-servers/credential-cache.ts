// The credentials of the resource servers allowed to introspect, held in this process (issue 4:
// the introspection hot path touches neither PostgreSQL nor a slow hash). The cache maps the
// client id to the SHA-256 of the secret; a presented secret is hashed and compared in constant
// time, so the plain secrets never stay in memory after a load.
//
// Freshness bound, per instance:
// - with a change notification (every admin change publishes 'resource-servers'): from the
//   moment the notification arrives, requests wait for the reload it triggers (one PostgreSQL
//   query, at most RELOAD_WAIT_MS) and are then answered from the new credentials;
// - a notification lost (Redis pub/sub is fire-and-forget; the subscriber also resynchronises
//   after every reconnection): at most `reloadIntervalMs` later, by the periodic reload.
// While PostgreSQL is unreachable the last loaded credentials stay in force: introspection must
// keep answering when only the database is down (issue 5).
import { hash, timingSafeEqual } from 'node:crypto';
import type { ChangeEvents } from '../events.js';
import { parseBasic } from '../oauth/client-credentials.js';
import type { ResourceServersRepository } from '../repositories/resource-servers-repository.js';
import type { SecretBox } from '../security/secret-box.js';

export type CredentialDigests = Map<string, Buffer>;

export interface ResourceServerCredentials {
  /**
   * True when the HTTP Basic header (RFC 7617, RFC 6749 §2.3.1) received on `connection` holds a
   * registered resource server's client id and secret. A header that verified on the same
   * connection under the same credentials is recognised by a constant-time comparison with it,
   * without parsing and hashing it again. Synchronous except while a reload triggered by a
   * change notification is in flight, when it waits for that reload.
   */
  verifyAuthorization(authorization: string | undefined, connection: object): boolean | Promise<boolean>;
  /** Reloads from the database now; resolves once the new credentials are in force. */
  reload(): Promise<void>;
  readonly size: number;
  close(): void;
}

export interface CredentialCacheOptions {
  /** Reads every resource server's client id and plain secret (from the database). */
  load(): Promise<Iterable<{ clientId: string; secret: string }>>;
  events: ChangeEvents;
  reloadIntervalMs: number;
  onError(err: unknown, context: string): void;
}

/** How long a request may wait for a notification-triggered reload before using the old credentials. */
export const RELOAD_WAIT_MS = 2000;

/** One-shot hashing: no Hash object per call, which the hot path would pay for in allocation and GC. */
export function digestSecret(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

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

  const loadOnce = async () => {
    const next: CredentialDigests = new Map();
    for (const { clientId, secret } of await options.load()) next.set(clientId, digestSecret(secret));
    digests = next;
    generation++;
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

  const check = (clientId: string, secret: string): boolean => {
    const expected = digests.get(clientId);
    return timingSafeEqual(digestSecret(secret), expected ?? UNKNOWN) && expected !== undefined;
  };

  const checkAuthorization = (authorization: string | undefined, connection: object): boolean => {
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

  options.events.subscribe('resource-servers', onChange);
  await reload();
  const timer = setInterval(() => {
    reload().catch((err) => options.onError(err, 'periodic resource server credentials reload failed'));
  }, options.reloadIntervalMs);
  timer.unref();

  return {
    verifyAuthorization(authorization, connection) {
      return waiting ? waiting.then(() => checkAuthorization(authorization, connection)) : checkAuthorization(authorization, connection);
    },
    reload,
    get size() {
      return digests.size;
    },
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}
