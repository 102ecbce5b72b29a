// The counters behind login-limiter.ts: per key, the failures of a fixed window and the attempts
// in flight, in Redis (shared by every instance) or in process.
//
// Counting attempts in flight separately from failures is what lets the limiter count failures
// only (a correct login never uses up a budget) and still bound parallel guessing: an attempt
// takes a slot only while failures + slots in flight stay below the limit, so N parallel wrong
// guesses cannot all be verified just because none of them has failed yet.
//
// Every operation takes all the counters of one step of an attempt at once. On one Redis server
// (standalone or under Sentinel) a step is one script over all its keys: one command, one round
// trip, and a reservation is all or nothing atomically. A Redis Cluster refuses a script whose
// keys live in different hash slots, and an attempt's keys cannot share one (the address's
// counter is every user's), so there each key gets a script of its own, sent together (one
// round trip per node with auto-pipelining), and a reservation that could not take every slot
// gives back those it took in a second round trip.
import { Cluster, type Redis } from 'ioredis';

/** `free`: the slot was available, but another counter of the step refused, so none was taken. */
export type SlotState =
  | { state: 'reserved' }
  | { state: 'exempt' }
  | { state: 'free' }
  | { state: 'busy' }
  | { state: 'locked'; msBeforeReset: number };

export interface FailureCount {
  failures: number;
  /** Until the window ends; 0 when there is no failure. */
  msBeforeReset: number;
}

export interface SlotRequest {
  key: string;
  limit: number;
  windowMs: number;
  /** Neither checked nor reserved when the attempt's known-address key exists. */
  exemptIfKnown: boolean;
}

export interface FailureRequest {
  key: string;
  windowMs: number;
  /** The attempt holds a slot in this counter: given back in the same step. */
  reserved: boolean;
}

export interface SettleRequest {
  key: string;
  reserved: boolean;
  /** Forget the failures (a successful login). */
  clear: boolean;
}

export interface FailureCounters {
  /** The failures of each key. */
  get(keys: string[]): Promise<FailureCount[]>;
  /**
   * A slot in every counter, or in none: taken only when no counter's failures alone (locked)
   * or with the slots in flight (busy) reach its limit. `known` names the known-address key.
   */
  reserve(slots: SlotRequest[], known: string): Promise<{ known: boolean; states: SlotState[] }>;
  /** One more failure in each counter. The window starts at the first. */
  fail(requests: FailureRequest[]): Promise<FailureCount[]>;
  /** Gives slots back and clears failures; `remember` then sets a plain key with a lifetime (the known address). */
  settle(requests: SettleRequest[], remember?: { key: string; ttlMs: number }): Promise<void>;
}

// The window is fixed: the expiry is set when the key is created and never extended, so no lock
// outlasts it, and refused attempts change nothing. A key with neither failures nor slots is
// deleted, so that a correct login leaves no window behind.

/** KEYS: counters. Returns failures and PTTL of each. */
const GET = `
local out = {}
for i, key in ipairs(KEYS) do
  out[#out + 1] = tonumber(redis.call('HGET', key, 'f') or '0')
  out[#out + 1] = redis.call('PTTL', key)
end
return out`;

/**
 * KEYS: the known address when ARGV[1] is 1, then counters. ARGV: that flag, then limit,
 * windowMs, exemptIfKnown (0/1) of each counter. Returns known (0/1), then state (0 available,
 * 1 locked, 2 busy, 3 exempt) and PTTL of each counter; the available ones were reserved when
 * none is locked or busy.
 */
const RESERVE = `
local known, first = 0, 1
if ARGV[1] == '1' then known, first = redis.call('EXISTS', KEYS[1]), 2 end
local out = {known}
local refused = false
for i = first, #KEYS do
  local a = 1 + (i - first) * 3
  local state, ttl = 0, 0
  if known == 1 and ARGV[a + 3] == '1' then
    state = 3
  else
    local f = tonumber(redis.call('HGET', KEYS[i], 'f') or '0')
    local n = tonumber(redis.call('HGET', KEYS[i], 'i') or '0')
    local limit = tonumber(ARGV[a + 1])
    if f >= limit then state, ttl = 1, redis.call('PTTL', KEYS[i])
    elseif f + n >= limit then state = 2 end
  end
  if state == 1 or state == 2 then refused = true end
  out[#out + 1] = state
  out[#out + 1] = ttl
end
if not refused then
  for i = first, #KEYS do
    local a = 1 + (i - first) * 3
    if out[(i - first + 1) * 2] == 0 then
      redis.call('HINCRBY', KEYS[i], 'i', 1)
      if redis.call('PTTL', KEYS[i]) < 0 then redis.call('PEXPIRE', KEYS[i], ARGV[a + 2]) end
    end
  end
end
return out`;

/** KEYS: counters. ARGV: windowMs, reserved (0/1) of each. Returns failures and PTTL of each. */
const FAIL = `
local out = {}
for i, key in ipairs(KEYS) do
  local a = (i - 1) * 2
  if ARGV[a + 2] == '1' and tonumber(redis.call('HGET', key, 'i') or '0') > 0 then redis.call('HINCRBY', key, 'i', -1) end
  local f = redis.call('HINCRBY', key, 'f', 1)
  if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[a + 1]) end
  out[#out + 1] = f
  out[#out + 1] = redis.call('PTTL', key)
end
return out`;

/**
 * KEYS: counters, then the key to remember when ARGV[1] (its lifetime in ms) is not 0.
 * ARGV: that lifetime, then reserved and clear (0/1) of each counter.
 */
const SETTLE = `
local ttl = tonumber(ARGV[1])
local n = #KEYS
if ttl > 0 then
  n = n - 1
  redis.call('SET', KEYS[#KEYS], '1', 'PX', ttl)
end
for j = 1, n do
  local key = KEYS[j]
  local i = tonumber(redis.call('HGET', key, 'i') or '0')
  local f = tonumber(redis.call('HGET', key, 'f') or '0')
  if ARGV[2 * j] == '1' and i > 0 then i = i - 1 end
  if ARGV[2 * j + 1] == '1' then f = 0 end
  if f == 0 and i == 0 then redis.call('DEL', key) else redis.call('HSET', key, 'i', i, 'f', f) end
end
return 0`;

const flag = (value: boolean) => (value ? '1' : '0');

type Script = (numberOfKeys: number, ...keysAndArgs: (string | number)[]) => Promise<unknown>;

/**
 * The scripts as commands of `redis` (EVALSHA: the script's text is sent once per connection,
 * not with every call; ioredis loads it again when the server answers NOSCRIPT). On a Cluster
 * every call names one key, and the commands are declared with one key: ioredis's
 * auto-pipelining routes a command by its first argument, which must then be the key, not the
 * number of keys.
 */
function defineScripts(redis: Redis | Cluster): Record<'get' | 'reserve' | 'fail' | 'settle', Script> {
  const commands = redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
  const perKey = redis instanceof Cluster;
  const define = (name: string, lua: string): Script => {
    const command = `ra_login_${name}`;
    if (typeof commands[command] !== 'function') redis.defineCommand(command, perKey ? { lua, numberOfKeys: 1 } : { lua });
    const call = (...args: (string | number)[]) => (commands[command] as (...a: (string | number)[]) => Promise<unknown>).apply(redis, args);
    return perKey ? (_one, ...keyAndArgs) => call(...keyAndArgs) : (numberOfKeys, ...keysAndArgs) => call(numberOfKeys, ...keysAndArgs);
  };
  return { get: define('get', GET), reserve: define('reserve', RESERVE), fail: define('fail', FAIL), settle: define('settle', SETTLE) };
}

const pairs = (flat: number[]): FailureCount[] => {
  const counts: FailureCount[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const failures = flat[i] as number;
    counts.push({ failures, msBeforeReset: failures > 0 ? Math.max(0, flat[i + 1] as number) : 0 });
  }
  return counts;
};

const slotState = (code: number, ttl: number): SlotState => {
  if (code === 1) return { state: 'locked', msBeforeReset: Math.max(0, ttl) };
  if (code === 2) return { state: 'busy' };
  return code === 3 ? { state: 'exempt' } : { state: 'free' };
};

export function redisFailureCounters(redis: Redis | Cluster, prefix: string): FailureCounters {
  const scripts = defineScripts(redis);
  const k = (key: string) => `${prefix}${key}`;
  // One script over several keys, or (Cluster) one per key, sent together.
  const run = async (script: Script, keys: string[], argsOf: (i: number) => (string | number)[]): Promise<number[]> => {
    if (!(redis instanceof Cluster)) return (await script(keys.length, ...keys.map(k), ...keys.flatMap((_, i) => argsOf(i)))) as number[];
    const each = await Promise.all(keys.map((key, i) => script(1, k(key), ...argsOf(i)) as Promise<number[]>));
    return each.flat();
  };

  const reserve = async (slots: SlotRequest[], known: string): Promise<{ known: boolean; states: SlotState[] }> => {
    const args = (i: number) => {
      const slot = slots[i] as SlotRequest;
      return [slot.limit, slot.windowMs, flag(slot.exemptIfKnown)];
    };
    if (!(redis instanceof Cluster)) {
      const out = (await scripts.reserve(
        slots.length + 1,
        k(known),
        ...slots.map((s) => k(s.key)),
        '1',
        ...slots.flatMap((_, i) => args(i)),
      )) as number[];
      const reserved = out.length > 1 && slots.every((_, i) => out[2 * i + 1] === 0 || out[2 * i + 1] === 3);
      const states = slots.map((_, i) =>
        reserved && out[2 * i + 1] === 0 ? ({ state: 'reserved' } as const) : slotState(out[2 * i + 1] as number, out[2 * i + 2] as number),
      );
      return { known: out[0] === 1, states };
    }
    // Cluster: the known address first (its own slot), then each counter on its own.
    const isKnown = (await redis.exists(k(known))) === 1;
    const checked = slots.map((slot) => !(isKnown && slot.exemptIfKnown));
    const each = await Promise.all(
      slots.map((slot, i) =>
        checked[i] ? (scripts.reserve(1, k(slot.key), '0', slot.limit, slot.windowMs, '0') as Promise<number[]>) : Promise.resolve(null),
      ),
    );
    // A script run on a single counter reserved it when that counter was available.
    const taken = slots.filter((_, i) => each[i]?.[1] === 0);
    const allTaken = taken.length === slots.filter((_, i) => checked[i]).length;
    if (!allTaken && taken.length > 0) await settle(taken.map((s) => ({ key: s.key, reserved: true, clear: false })));
    const states = slots.map((_, i): SlotState => {
      const out = each[i];
      if (!out) return { state: 'exempt' };
      if (out[1] === 0) return allTaken ? { state: 'reserved' } : { state: 'free' };
      return slotState(out[1] as number, out[2] as number);
    });
    return { known: isKnown, states };
  };

  const settle = async (requests: SettleRequest[], remember?: { key: string; ttlMs: number }): Promise<void> => {
    if (!(redis instanceof Cluster)) {
      const keys = requests.map((r) => k(r.key));
      if (remember) keys.push(k(remember.key));
      await scripts.settle(keys.length, ...keys, remember?.ttlMs ?? 0, ...requests.flatMap((r) => [flag(r.reserved), flag(r.clear)]));
      return;
    }
    await Promise.all([
      ...requests.map((r) => scripts.settle(1, k(r.key), 0, flag(r.reserved), flag(r.clear))),
      remember ? redis.set(k(remember.key), '1', 'PX', remember.ttlMs) : undefined,
    ]);
  };

  return {
    get: async (keys) => pairs(await run(scripts.get, keys, () => [])),
    reserve,
    fail: async (requests) =>
      pairs(
        await run(
          scripts.fail,
          requests.map((r) => r.key),
          (i) => [(requests[i] as FailureRequest).windowMs, flag((requests[i] as FailureRequest).reserved)],
        ),
      ),
    settle,
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
  const isKnown = (key: string) => {
    const expiresAt = known.get(key);
    return expiresAt !== undefined && expiresAt > now();
  };
  return {
    get: async (keys) => keys.map((key) => count(live(key))),
    async reserve(slots, knownKey) {
      const exempt = isKnown(knownKey);
      const states: SlotState[] = slots.map((slot): SlotState => {
        if (exempt && slot.exemptIfKnown) return { state: 'exempt' };
        const entry = live(slot.key);
        const failures = entry?.failures ?? 0;
        if (entry && failures >= slot.limit) return { state: 'locked', msBeforeReset: entry.expiresAt - now() };
        if (failures + (entry?.inFlight ?? 0) >= slot.limit) return { state: 'busy' };
        return { state: 'free' };
      });
      if (!states.some((s) => s.state === 'locked' || s.state === 'busy')) {
        for (const [i, slot] of slots.entries()) {
          if (states[i]?.state !== 'free') continue;
          (live(slot.key) ?? create(slot.key, slot.windowMs)).inFlight += 1;
          states[i] = { state: 'reserved' };
        }
      }
      return { known: exempt, states };
    },
    async fail(requests) {
      return requests.map(({ key, windowMs, reserved }) => {
        const entry = live(key) ?? create(key, windowMs);
        if (reserved && entry.inFlight > 0) entry.inFlight -= 1;
        entry.failures += 1;
        return count(entry);
      });
    },
    async settle(requests, remember) {
      for (const { key, reserved, clear } of requests) {
        const entry = live(key);
        if (!entry) continue;
        if (reserved && entry.inFlight > 0) entry.inFlight -= 1;
        if (clear) entry.failures = 0;
        if (entry.failures === 0 && entry.inFlight === 0) entries.delete(key);
      }
      if (remember) {
        sweep();
        known.set(remember.key, now() + remember.ttlMs);
      }
    },
  };
}
