// src/security/failure-counters.ts on its own, in process and in every Redis mode: each step of a
// login attempt is one command on one server (standalone, Sentinel), one per key on a Cluster,
// whose slots an attempt's keys cannot share; a reservation takes a slot in every counter or in
// none; the known address exempts the counters marked so, and only those; failures and settles
// act on every counter of the step.
import t, { type Test } from 'tap';
import type { RedisClient } from '../../src/redis/connection.js';
import { type FailureCounters, type SlotRequest, memoryFailureCounters, redisFailureCounters } from '../../src/security/failure-counters.js';
import { REDIS_MODES, connectRedis } from '../redis-modes.js';

const WINDOW_MS = 60_000;
const slot = (key: string, limit: number, exemptIfKnown = false): SlotRequest => ({ key, limit, windowMs: WINDOW_MS, exemptIfKnown });

/** Counts the commands `redis` sends (on a Cluster, whatever node they go to). */
function countCommands(redis: RedisClient): { sent: string[] } {
  const log = { sent: [] as string[] };
  const original = redis.sendCommand.bind(redis) as (command: { name: string }, ...rest: unknown[]) => unknown;
  (redis as unknown as { sendCommand: typeof original }).sendCommand = (command, ...rest) => {
    log.sent.push(command.name);
    return original(command, ...rest);
  };
  return log;
}

async function contract(t: Test, counters: FailureCounters, commands: (() => string[]) | undefined, perKey: boolean) {
  const steps = (n: number) => (perKey ? n : 1);
  const sent = async <T>(what: string, expected: number, call: () => Promise<T>): Promise<T> => {
    const before = commands?.().length ?? 0;
    const result = await call();
    if (commands) t.equal(commands().length - before, expected, `${what}: ${expected} command(s)`);
    return result;
  };

  const slots = [slot('ip:1', 100), slot('client-ip:1', 2), slot('user:1', 1, true)];
  const first = await sent('reserve', perKey ? 4 : 1, () => counters.reserve(slots, 'known:1'));
  t.same(first, { known: false, states: [{ state: 'reserved' }, { state: 'reserved' }, { state: 'reserved' }] }, 'every slot taken');

  // The user counter (limit 1) has its one slot in flight: the next attempt is busy there and
  // takes no slot anywhere, not even where there is room.
  const second = await counters.reserve(slots, 'known:1');
  t.same(second.states, [{ state: 'free' }, { state: 'free' }, { state: 'busy' }], 'all or nothing: busy on the user, nothing taken');
  const failed = await sent('fail', steps(3), () => counters.fail(slots.map((s) => ({ key: s.key, windowMs: WINDOW_MS, reserved: true }))));
  t.same(
    failed.map((c) => c.failures),
    [1, 1, 1],
    'one failure in every counter',
  );
  t.ok(
    failed.every((c) => c.msBeforeReset > 0 && c.msBeforeReset <= WINDOW_MS),
    'the window runs',
  );

  const locked = await counters.reserve(slots, 'known:1');
  t.equal(locked.states[2]?.state, 'locked', 'the user counter is at its limit');
  t.same(locked.states.slice(0, 2), [{ state: 'free' }, { state: 'free' }], 'nothing taken elsewhere');
  t.same(
    (await sent('get', steps(3), () => counters.get(slots.map((s) => s.key)))).map((c) => c.failures),
    [1, 1, 1],
    'the refused attempts counted nothing',
  );

  // A success from the known address: it is remembered, and the user counter no longer applies to it.
  await sent('settle', perKey ? 3 : 1, () =>
    counters.settle(
      slots.slice(0, 2).map((s) => ({ key: s.key, reserved: false, clear: true })),
      { key: 'known:1', ttlMs: WINDOW_MS },
    ),
  );
  const known = await counters.reserve(slots, 'known:1');
  t.same(
    known,
    { known: true, states: [{ state: 'reserved' }, { state: 'reserved' }, { state: 'exempt' }] },
    'the known address skips the user counter',
  );
  t.same(
    (await counters.get(slots.map((s) => s.key))).map((c) => c.failures),
    [0, 0, 1],
    'the success cleared what it was asked to clear, nothing else',
  );
  const other = await counters.reserve(slots, 'known:2');
  t.equal(other.states[2]?.state, 'locked', 'another address is not exempt');
  await counters.settle(slots.slice(0, 2).map((s) => ({ key: s.key, reserved: true, clear: false })));
  t.same(await counters.get(['client-ip:1']), [{ failures: 0, msBeforeReset: 0 }], 'settled: no failure, no slot, no key left behind');
}

t.test('in process', async (t) => {
  await contract(t, memoryFailureCounters(), undefined, false);
});

for (const mode of REDIS_MODES) {
  t.test(`on Redis (${mode.mode})`, { skip: mode.skip }, async (t) => {
    const { redis, prefix } = await connectRedis(t, mode);
    const counters = redisFailureCounters(redis, prefix);
    // Once, so that ioredis has loaded the scripts (EVALSHA; a NOSCRIPT retry would count twice).
    await counters.get(['warm-up']);
    await counters.reserve([slot('warm-up', 1)], 'warm-up:known');
    await counters.fail([{ key: 'warm-up', windowMs: WINDOW_MS, reserved: true }]);
    await counters.settle([{ key: 'warm-up', reserved: false, clear: true }]);
    const log = countCommands(redis);
    await contract(t, counters, () => log.sent, mode.mode === 'cluster');
    t.ok(
      log.sent.every((name) => name === 'evalsha' || name === 'exists' || name === 'set'),
      `scripts by their digest only, never their text: ${[...new Set(log.sent)].join(', ')}`,
    );
  });
}
