// Brute-force protection of /oauth/token (RFC 6749 §4.3.2: the authorization server MUST protect
// the password grant against brute force). Fixed-window failure counters from rate-limiter-flexible,
// in Redis when REDIS_URL is set (shared by every instance), in process otherwise:
//
//   user       failed password grants per (client, user), from any address;
//   client_ip  failed password grants and failed client authentications per (client, address);
//   ip         all of those plus malformed requests per address.
//
// Lock-out policy: a password grant only reaches the user counter once the client has
// authenticated from inside its allowed networks, so an attacker from any other address can push
// only the counters of its own address. The user counter is keyed by client as well, so another
// reseller's client cannot push it either. What remains is an attacker that holds the client's
// secret on another allowed address: it can lock the user, but an address that logged this user in
// successfully within the known-address period is exempt from the user counter (the address-bound
// counters still apply to it), in the spirit of OWASP's "device cookies". A lock is a fixed window
// counted from the first failure, and refused attempts are not counted, so no lock lasts longer
// than LOGIN_WINDOW.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config.js';
import { DependencyUnavailableError, TooManyRequestsError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { parseClientId } from '../oauth/client-credentials.js';
import type { LoginAttempt, LoginGuard } from '../oauth/login-guard.js';

export type LimitName = 'user' | 'client_ip' | 'ip';

/** 429 too_many_requests that also says which counter was over its limit (for metrics and logs). */
export class LoginLimitError extends TooManyRequestsError {
  constructor(
    readonly limit: LimitName,
    retryAfterMs: number,
  ) {
    super(retryAfterMs / 1000);
  }
}

/** The in-process store keeps each key with a setTimeout, which cannot exceed 2^31-1 ms (~24.8 days). */
const MAX_KNOWN_ADDRESS_TTL = 24 * 86400;

export interface LoginLimiterOptions {
  limits: Config['login'];
  /** Seconds an address stays exempt from a user's lock after logging that user in. */
  knownAddressTtl: number;
  redis: Redis | undefined;
  keyPrefix: string;
  metrics: Metrics;
  log: Logger;
}

/** The keys of one password-grant attempt in each counter. */
interface CounterKeys {
  user: string;
  clientIp: string;
  ip: string;
  /** The user's known-address entry for the caller's exact address. */
  known: string;
}

/** Reserved points of one password-grant attempt, between assertAllowed and its outcome. */
interface Reservation {
  user: RateLimiterRes;
  clientIp: RateLimiterRes;
}

/**
 * One counter per address, except that an IPv6 address counts as its /64: that is the smallest
 * network a site is given (RFC 7421), so per-address limits would otherwise be free to evade.
 */
export function addressKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return 'unparseable';
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/64`).toString()}/64`;
}

/** Claimed client ids come from the request: anything that cannot name a client shares one key. */
function clientKey(clientId: string | undefined): string {
  const id = clientId === undefined ? null : parseClientId(clientId);
  return id === null ? '-' : String(id);
}

/** Keys stay short whatever was sent (usernames may be 4096 characters); not a secrecy measure. */
function userKey(clientId: string, username: string): string {
  return `${clientKey(clientId)}:${createHash('sha256').update(username.toLowerCase()).digest('base64url').slice(0, 22)}`;
}

export class LoginLimiter implements LoginGuard {
  readonly #limits: Config['login'];
  readonly #knownAddressTtl: number;
  readonly #user: RateLimiterAbstract;
  readonly #clientIp: RateLimiterAbstract;
  readonly #ip: RateLimiterAbstract;
  readonly #known: RateLimiterAbstract;
  readonly #reservations = new WeakMap<LoginAttempt, Reservation>();
  readonly #metrics: Metrics;
  readonly #log: Logger;

  constructor(options: LoginLimiterOptions) {
    const { limits, redis, keyPrefix } = options;
    this.#limits = limits;
    this.#knownAddressTtl = Math.max(1, Math.min(options.knownAddressTtl, MAX_KNOWN_ADDRESS_TTL));
    this.#metrics = options.metrics;
    this.#log = options.log;
    const counter = (name: string, points: number, duration: number): RateLimiterAbstract =>
      redis
        ? // rejectIfRedisNotReady: fail at once while disconnected, like every other Redis call (503).
          new RateLimiterRedis({ storeClient: redis, keyPrefix: `${keyPrefix}login:${name}`, points, duration, rejectIfRedisNotReady: true })
        : new RateLimiterMemory({ keyPrefix: `login:${name}`, points, duration });
    this.#user = counter('user', limits.maxFailuresUser, limits.window);
    this.#clientIp = counter('client-ip', limits.maxFailuresClientIp, limits.window);
    this.#ip = counter('ip', limits.maxFailuresIp, limits.window);
    this.#known = counter('known', 1, this.#knownAddressTtl);
  }

  async assertAddressAllowed(ip: string, clientId?: string): Promise<void> {
    const [byIp, byClientIp] = await this.#store(() =>
      Promise.all([this.#ip.get(addressKey(ip)), clientId === undefined ? null : this.#clientIp.get(this.#clientIpKey(clientId, ip))]),
    );
    if (byIp && byIp.consumedPoints >= this.#limits.maxFailuresIp) throw this.#refuse('ip', byIp);
    if (byClientIp && byClientIp.consumedPoints >= this.#limits.maxFailuresClientIp) throw this.#refuse('client_ip', byClientIp);
  }

  /**
   * Reserves the attempt on every counter before the password is verified: concurrent guesses
   * cannot all pass a check made before any of them is counted. A refused attempt is released.
   */
  async assertAllowed(attempt: LoginAttempt): Promise<void> {
    const keys = this.#keys(attempt);
    const [user, clientIp, ip, known] = await this.#store(() =>
      Promise.all([this.#user.penalty(keys.user), this.#clientIp.penalty(keys.clientIp), this.#ip.penalty(keys.ip), this.#known.get(keys.known)]),
    );
    const over: [LimitName, RateLimiterRes][] = [];
    if (ip.consumedPoints > this.#limits.maxFailuresIp) over.push(['ip', ip]);
    if (clientIp.consumedPoints > this.#limits.maxFailuresClientIp) over.push(['client_ip', clientIp]);
    if (user.consumedPoints > this.#limits.maxFailuresUser && known === null) over.push(['user', user]);
    const first = over[0];
    if (first) {
      await this.#unreserve(keys);
      const longest = over.reduce((a, b) => (b[1].msBeforeNext > a[1].msBeforeNext ? b : a), first);
      throw this.#refuse(longest[0], longest[1]);
    }
    this.#reservations.set(attempt, { user, clientIp });
  }

  /** The reserved attempt stays counted; reaching a limit is worth a warning to operators. */
  async recordFailure(attempt: LoginAttempt): Promise<void> {
    const reserved = this.#reservations.get(attempt);
    this.#reservations.delete(attempt);
    if (!reserved) return;
    const reached = [
      reserved.user.consumedPoints === this.#limits.maxFailuresUser && 'user',
      reserved.clientIp.consumedPoints === this.#limits.maxFailuresClientIp && 'client_ip',
    ].filter(Boolean);
    if (reached.length > 0) {
      this.#log.warn({ limits: reached, clientId: attempt.clientId, ip: attempt.ip }, 'failed-login limit reached');
    }
  }

  /** Resets the user's counter, releases the address counters and remembers the address. */
  async recordSuccess(attempt: LoginAttempt): Promise<void> {
    this.#reservations.delete(attempt);
    const keys = this.#keys(attempt);
    await this.#store(() =>
      Promise.all([
        this.#user.delete(keys.user),
        this.#clientIp.reward(keys.clientIp),
        this.#ip.reward(keys.ip),
        this.#known.set(keys.known, 1, this.#knownAddressTtl),
      ]),
    );
  }

  async release(attempt: LoginAttempt): Promise<void> {
    if (!this.#reservations.delete(attempt)) return;
    await this.#unreserve(this.#keys(attempt));
  }

  /** A failed client authentication: a guess at a client secret, from this address. */
  async recordClientFailure(clientId: string | undefined, ip: string): Promise<void> {
    await this.#store(() => Promise.all([this.#clientIp.penalty(this.#clientIpKey(clientId, ip)), this.#ip.penalty(addressKey(ip))]));
  }

  async recordMalformed(ip: string): Promise<void> {
    await this.#store(() => this.#ip.penalty(addressKey(ip)));
  }

  async #unreserve(keys: CounterKeys): Promise<void> {
    await this.#store(() => Promise.all([this.#user.reward(keys.user), this.#clientIp.reward(keys.clientIp), this.#ip.reward(keys.ip)]));
  }

  #clientIpKey(clientId: string | undefined, ip: string): string {
    return `${clientKey(clientId)}:${addressKey(ip)}`;
  }

  #keys(attempt: LoginAttempt): CounterKeys {
    const user = userKey(attempt.clientId, attempt.username);
    const exact = ipaddr.isValid(attempt.ip) ? ipaddr.process(attempt.ip).toString() : 'unparseable';
    return { user, clientIp: this.#clientIpKey(attempt.clientId, attempt.ip), ip: addressKey(attempt.ip), known: `${user}:${exact}` };
  }

  #refuse(limit: LimitName, res: RateLimiterRes): LoginLimitError {
    this.#metrics.rateLimited.inc({ limit });
    // A key without expiry cannot exist here (every counter has a window); never answer Retry-After: 0.
    return new LoginLimitError(limit, res.msBeforeNext > 0 ? res.msBeforeNext : this.#limits.window * 1000);
  }

  /** The counters live in the token store's Redis: unreachable means 503, like the store itself. */
  async #store<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      // rate-limiter-flexible rejects with a RateLimiterRes only from consume(), which is not used.
      throw new DependencyUnavailableError('token store', err);
    }
  }
}

export function createLoginLimiter(options: LoginLimiterOptions): LoginLimiter {
  return new LoginLimiter(options);
}
