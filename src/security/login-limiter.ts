// Brute-force protection of /oauth/token and /oauth/revoke (RFC 6749 §4.3.2: the authorization
// server MUST protect the password grant against brute force; RFC 6819 §5.1.4.2.3 for
// client secrets). Fixed-window failure counters (failure-counters.ts), in Redis when REDIS_URL is
// set (shared by every instance), in process otherwise. docs/rate-limits.md is the policy for
// operators; in short:
//
//   user        failed password grants per (client, user), from any address, in LOGIN_WINDOW;
//   user daily  the same over 24 hours (LOGIN_MAX_FAILURES_USER_DAILY): a success does not clear it;
//   client_ip   failed password grants and failed client authentications per (client, address);
//   ip          all of those plus malformed requests per address.
//
// Only failures count: an attempt holds a slot while its password is verified, and a slot is
// granted only while failures + slots stay below each limit, so parallel guesses cannot overtake
// the counters, while parallel correct logins merely wait for a slot (MAX_SLOT_WAIT_MS) and
// never use up a budget. A success clears the address-bound counters and the user's window
// counter; the daily counter stays, so a legitimate login does not hand a guesser a fresh budget.
//
// Lock-out policy: a password grant only reaches the user counters once the client has
// authenticated from inside its allowed networks, so an attacker from any other address can push
// only the counters of its own address. The user counters are keyed by client as well, so another
// reseller's client cannot push them either. What remains is an attacker that holds the client's
// secret on another allowed address: it can lock the user, but an address that logged this user in
// successfully within the known-address period is exempt from the user counters (the address-bound
// counters still apply to it), in the spirit of OWASP's "device cookies". A lock is a fixed window
// counted from the first failure, and refused attempts are not counted, so no lock lasts longer
// than its window.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { DependencyUnavailableError, TooManyRequestsError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { parseClientId } from '../oauth/client-credentials.js';
import type { LoginAttempt, LoginGuard } from '../oauth/login-guard.js';
import { type FailureCounters, memoryFailureCounters, redisFailureCounters } from './failure-counters.js';

/** The counter that refused; the daily cap reports as `user` (it is the user's budget too). */
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

const DAY = 86_400;
/** Longest an attempt waits for a slot (others' attempts in flight) before it is refused; under the token route's handler timeout. */
export const MAX_SLOT_WAIT_MS = 8000;

export interface LoginLimiterOptions {
  limits: Config['login'];
  /** Seconds an address stays exempt from a user's lock after logging that user in. */
  knownAddressTtl: number;
  redis: Redis | Cluster | undefined;
  keyPrefix: string;
  metrics: Metrics;
  log: Logger;
}

interface Counter {
  limit: LimitName;
  key: string;
  max: number;
  windowMs: number;
  /** A success clears it (all but the daily cap). */
  clearedBySuccess: boolean;
}

/** The counters of one password-grant attempt, and whether it holds a slot in each. */
interface Attempt {
  counters: Counter[];
  reserved: Set<Counter>;
  known: string;
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
  readonly #knownAddressTtlMs: number;
  readonly #counters: FailureCounters;
  readonly #attempts = new WeakMap<LoginAttempt, Attempt>();
  readonly #metrics: Metrics;
  readonly #log: Logger;

  constructor(options: LoginLimiterOptions) {
    const { limits, redis, keyPrefix } = options;
    this.#limits = limits;
    this.#knownAddressTtlMs = Math.max(1, options.knownAddressTtl) * 1000;
    this.#metrics = options.metrics;
    this.#log = options.log;
    this.#counters = redis ? redisFailureCounters(redis, `${keyPrefix}login:`) : memoryFailureCounters();
  }

  async assertAddressAllowed(ip: string, clientId?: string): Promise<void> {
    const [ipCounter, clientIpCounter] = this.#addressCounters(clientId, ip);
    const keys = clientId === undefined ? [ipCounter.key] : [ipCounter.key, clientIpCounter.key];
    const [byIp, byClientIp] = await this.#store(() => this.#counters.get(keys));
    if (byIp && byIp.failures >= ipCounter.max) throw this.#refuse('ip', byIp.msBeforeReset);
    if (byClientIp && byClientIp.failures >= clientIpCounter.max) throw this.#refuse('client_ip', byClientIp.msBeforeReset);
  }

  /**
   * Before the password is verified: takes a slot in every counter of the attempt, waiting while
   * other attempts in flight could still use up the remaining budget. Refused (429) as soon as a
   * counter's failures reach its limit, or when no slot frees up within MAX_SLOT_WAIT_MS. All or
   * nothing: a slot held while waiting for another would only make others wait. The known
   * address is exempt from the user counters: they are not checked, only fed.
   */
  async assertAllowed(attempt: LoginAttempt): Promise<void> {
    const { counters, known } = this.#plan(attempt);
    const slots = counters.map((c) => ({ key: c.key, limit: c.max, windowMs: c.windowMs, exemptIfKnown: c.limit === 'user' }));
    const deadline = performance.now() + MAX_SLOT_WAIT_MS;
    for (let pause = 2; ; pause = Math.min(pause * 2, 40)) {
      const { states } = await this.#store(() => this.#counters.reserve(slots, known));
      if (states.every((s) => s.state === 'reserved' || s.state === 'exempt')) {
        this.#attempts.set(attempt, { counters, reserved: new Set(counters.filter((_, i) => states[i]?.state === 'reserved')), known });
        return;
      }
      let locked: [Counter, number] | undefined;
      for (const [i, result] of states.entries()) {
        if (result.state === 'locked' && (!locked || result.msBeforeReset > locked[1])) locked = [counters[i] as Counter, result.msBeforeReset];
      }
      if (locked) throw this.#refuse(locked[0].limit, locked[1]);
      if (performance.now() > deadline) {
        const busy = counters[states.findIndex((s) => s.state === 'busy')] as Counter;
        throw this.#refuse(busy.limit, 1000);
      }
      await sleep(pause + Math.random() * pause);
    }
  }

  /** Every counter of the attempt counts one failure; reaching a limit is worth a warning to operators. */
  async recordFailure(attempt: LoginAttempt): Promise<void> {
    const state = this.#take(attempt);
    const counts = await this.#store(() =>
      this.#counters.fail(state.counters.map((c) => ({ key: c.key, windowMs: c.windowMs, reserved: state.reserved.has(c) }))),
    );
    const reached = state.counters.filter((c, i) => counts[i]?.failures === c.max).map((c) => (c.clearedBySuccess ? c.limit : 'user_daily'));
    if (reached.length > 0) {
      this.#log.warn({ limits: reached, clientId: attempt.clientId, ip: attempt.ip }, 'failed-login limit reached');
    }
  }

  /** Clears every counter but the daily cap, gives the slots back and remembers the address. */
  async recordSuccess(attempt: LoginAttempt): Promise<void> {
    const state = this.#take(attempt);
    const settled = state.counters
      .filter((c) => c.clearedBySuccess || state.reserved.has(c))
      .map((c) => ({ key: c.key, reserved: state.reserved.has(c), clear: c.clearedBySuccess }));
    await this.#store(() => this.#counters.settle(settled, { key: state.known, ttlMs: this.#knownAddressTtlMs }));
  }

  async release(attempt: LoginAttempt): Promise<void> {
    const state = this.#take(attempt);
    if (state.reserved.size === 0) return;
    await this.#store(() => this.#counters.settle([...state.reserved].map((c) => ({ key: c.key, reserved: true, clear: false }))));
  }

  /** A failed client authentication: a guess at a client secret, from this address. */
  async recordClientFailure(clientId: string | undefined, ip: string): Promise<void> {
    await this.#store(() =>
      this.#counters.fail(this.#addressCounters(clientId, ip).map((c) => ({ key: c.key, windowMs: c.windowMs, reserved: false }))),
    );
  }

  async recordMalformed(ip: string): Promise<void> {
    const [byIp] = this.#addressCounters(undefined, ip);
    await this.#store(() => this.#counters.fail([{ key: byIp.key, windowMs: byIp.windowMs, reserved: false }]));
  }

  /** The attempt's state; without assertAllowed before (no slots held), its counters all the same. */
  #take(attempt: LoginAttempt): Attempt {
    const state = this.#attempts.get(attempt);
    this.#attempts.delete(attempt);
    return state ?? { ...this.#plan(attempt), reserved: new Set() };
  }

  #plan(attempt: LoginAttempt): Omit<Attempt, 'reserved'> {
    const user = userKey(attempt.clientId, attempt.username);
    const exact = ipaddr.isValid(attempt.ip) ? ipaddr.process(attempt.ip).toString() : 'unparseable';
    const windowMs = this.#limits.window * 1000;
    return {
      counters: [
        ...this.#addressCounters(attempt.clientId, attempt.ip),
        { limit: 'user', key: `user:${user}`, max: this.#limits.maxFailuresUser, windowMs, clearedBySuccess: true },
        { limit: 'user', key: `user-daily:${user}`, max: this.#limits.maxFailuresUserDaily, windowMs: DAY * 1000, clearedBySuccess: false },
      ],
      known: `known:${user}:${exact}`,
    };
  }

  #addressCounters(clientId: string | undefined, ip: string): [Counter, Counter] {
    const windowMs = this.#limits.window * 1000;
    const address = addressKey(ip);
    return [
      { limit: 'ip', key: `ip:${address}`, max: this.#limits.maxFailuresIp, windowMs, clearedBySuccess: true },
      {
        limit: 'client_ip',
        key: `client-ip:${clientKey(clientId)}:${address}`,
        max: this.#limits.maxFailuresClientIp,
        windowMs,
        clearedBySuccess: true,
      },
    ];
  }

  #refuse(limit: LimitName, msBeforeReset: number): LoginLimitError {
    this.#metrics.rateLimited.inc({ limit });
    // A counter without expiry cannot exist here (every counter has a window); never answer Retry-After: 0.
    return new LoginLimitError(limit, msBeforeReset > 0 ? msBeforeReset : this.#limits.window * 1000);
  }

  /** The counters live in the token store's Redis: unreachable means 503, like the store itself. */
  async #store<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw new DependencyUnavailableError('token store', err);
    }
  }
}

export function createLoginLimiter(options: LoginLimiterOptions): LoginLimiter {
  return new LoginLimiter(options);
}
