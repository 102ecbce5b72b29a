// The counters behind login-limiter.ts: per key, the failures of a fixed window and the attempts
// in flight, in Redis (shared by every instance) or in process. Each Redis call is one script on
// ONE key, so that the keys may live in any slot of a Redis Cluster.
//
// Counting attempts in flight separately from failures is what lets the limiter count failures
// only (a correct login never uses up a budget) and still bound parallel guessing: an attempt
// takes a slot only while failures + slots in flight stay below the limit, so N parallel wrong
// guesses cannot all be verified just because none of them has failed yet.
import type { Cluster, Redis } from 'ioredis';

export type Reservation = { state: 'reserved' } | { state: 'locked'; msBeforeReset: number } | { state: 'busy' };

export interface FailureCount {
  failures: number;
  /** Until the window ends; 0 when there is no failure. */
  msBeforeReset: number;
}

export interface FailureCounters {
  get(key: string): Promise<FailureCount>;
  /** Takes a slot unless the failures alone (locked) or with the slots in flight (busy) reach `limit`. */
  reserve(key: string, limit: number, windowMs: number): Promise<Reservation>;
  /** One more failure; `reserved` gives its slot back in the same step. The window starts at the first. */
  fail(key: string, windowMs: number, reserved: boolean): Promise<FailureCount>;
  /** Gives a slot back and, with `clear`, forgets the failures (a successful login). */
  settle(key: string, reserved: boolean, clear: boolean): Promise<void>;
  /** A plain key with a lifetime (the known addresses). */
  remember(key: string, ttlMs: number): Promise<void>;
  exists(key: string): Promise<boolean>;
}

// The window is fixed: the expiry is set when the key is created and never extended, so no lock
// outlasts it, and refused attempts change nothing. A key with neither failures nor slots is
// deleted, so that a correct login leaves no window behind.
const RESERVE = `
local f = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
local i = tonumber(redis.call('HGET', KEYS[1], 'i') or '0')
local limit = tonumber(ARGV[1])
if f >= limit then return {1, redis.call('PTTL', KEYS[1])} end
if f + i >= limit then return {2, 0} end
redis.call('HINCRBY', KEYS[1], 'i', 1)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {0, 0}`;

const FAIL = `
if ARGV[2] == '1' and tonumber(redis.call('HGET', KEYS[1], 'i') or '0') > 0 then redis.call('HINCRBY', KEYS[1], 'i', -1) end
local f = redis.call('HINCRBY', KEYS[1], 'f', 1)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {f, redis.call('PTTL', KEYS[1])}`;

const SETTLE = `
local i = tonumber(redis.call('HGET', KEYS[1], 'i') or '0')
local f = tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
if ARGV[1] == '1' and i > 0 then i = i - 1 end
if ARGV[2] == '1' then f = 0 end
if f == 0 and i == 0 then redis.call('DEL', KEYS[1]) return 0 end
redis.call('HSET', KEYS[1], 'i', i, 'f', f)
return 0`;

const GET = `return {tonumber(redis.call('HGET', KEYS[1], 'f') or '0'), redis.call('PTTL', KEYS[1])}`;

const flag = (value: boolean) => (value ? '1' : '0');

export function redisFailureCounters(redis: Redis | Cluster, prefix: string): FailureCounters {
  const run = async (script: string, key: string, ...args: (string | number)[]): Promise<[number, number]> =>
    (await redis.eval(script, 1, `${prefix}${key}`, ...args)) as [number, number];
  const count = ([failures, ttl]: [number, number]): FailureCount => ({ failures, msBeforeReset: failures > 0 ? Math.max(0, ttl) : 0 });
  return {
    get: async (key) => count(await run(GET, key)),
    async reserve(key, limit, windowMs) {
      const [state, ttl] = await run(RESERVE, key, limit, windowMs);
      if (state === 0) return { state: 'reserved' };
      return state === 1 ? { state: 'locked', msBeforeReset: Math.max(0, ttl) } : { state: 'busy' };
    },
    fail: async (key, windowMs, reserved) => count(await run(FAIL, key, windowMs, flag(reserved))),
    async settle(key, reserved, clear) {
      await run(SETTLE, key, flag(reserved), flag(clear));
    },
    async remember(key, ttlMs) {
      await redis.set(`${prefix}${key}`, '1', 'PX', ttlMs);
    },
    exists: async (key) => (await redis.exists(`${prefix}${key}`)) === 1,
  };
}

interface Entry {
  failures: number;
  inFlight: number;
  expiresAt: number;
}

/** The same semantics in process (one instance, no REDIS_URL); expired entries are swept lazily. */
export function memoryFailureCounters(now: () => number = Date.now): FailureCounters {
  const entries = new Map<string, Entry>();
  const known = new Map<string, number>();
  let writes = 0;
  const sweep = () => {
    writes += 1;
    if (writes % 1024 !== 0) return;
    const t = now();
    for (const [key, entry] of entries) if (entry.expiresAt <= t) entries.delete(key);
    for (const [key, expiresAt] of known) if (expiresAt <= t) known.delete(key);
  };
  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };
  const create = (key: string, windowMs: number): Entry => {
    sweep();
    const entry = { failures: 0, inFlight: 0, expiresAt: now() + windowMs };
    entries.set(key, entry);
    return entry;
  };
  const count = (entry: Entry | undefined): FailureCount =>
    entry && entry.failures > 0 ? { failures: entry.failures, msBeforeReset: entry.expiresAt - now() } : { failures: 0, msBeforeReset: 0 };
  return {
    get: async (key) => count(live(key)),
    async reserve(key, limit, windowMs) {
      const entry = live(key);
      const failures = entry?.failures ?? 0;
      if (entry && failures >= limit) return { state: 'locked', msBeforeReset: entry.expiresAt - now() };
      if (failures + (entry?.inFlight ?? 0) >= limit) return { state: 'busy' };
      (entry ?? create(key, windowMs)).inFlight += 1;
      return { state: 'reserved' };
    },
    async fail(key, windowMs, reserved) {
      const entry = live(key) ?? create(key, windowMs);
      if (reserved && entry.inFlight > 0) entry.inFlight -= 1;
      entry.failures += 1;
      return count(entry);
    },
    async settle(key, reserved, clear) {
      const entry = live(key);
      if (!entry) return;
      if (reserved && entry.inFlight > 0) entry.inFlight -= 1;
      if (clear) entry.failures = 0;
      if (entry.failures === 0 && entry.inFlight === 0) entries.delete(key);
    },
    async remember(key, ttlMs) {
      sweep();
      known.set(key, now() + ttlMs);
    },
    async exists(key) {
      const expiresAt = known.get(key);
      return expiresAt !== undefined && expiresAt > now();
    },
  };
}
