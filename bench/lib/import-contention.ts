// What a login waits for while an import runs: a lock, or the CPU. Every ~20 ms during the bench
// this samples (1) PostgreSQL's view of the target database — each backend's wait_event, the locks
// it waits for (pg_locks, not granted, with waitstart: PostgreSQL 14+) and who blocks it
// (pg_blocking_pids) — telling the service's backends from the import's by their client port;
// and (2) the scheduler's times of the service's threads (the event loop, the niced hashing
// threads), of its backends, and of the import (the CLI and its backends): CPU used, and time spent
// runnable waiting for a CPU (proc-sched.ts). The service's event-loop delay comes from its own
// /metrics (prom-client's nodejs_eventloop_lag_max_seconds, reset at each scrape).
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  type SchedTimes,
  addTimes,
  childOf,
  localPorts,
  machineTimes,
  noTimes,
  subtractTimes,
  threadIds,
  threadNice,
  threadTimes,
} from './proc-sched.js';

const TICK_MS = 20;
const SCRAPE_MS = 500;

type Side = 'service' | 'import';
const GROUPS = ['eventLoop', 'hashing', 'serviceBackends', 'importCli', 'importBackends', 'machine'] as const;
export type Group = (typeof GROUPS)[number];
type GroupTimes = Record<Group, SchedTimes>;

interface Tick {
  t: number;
  /** Cumulative since the sampler started (the machine's: since boot, CPU only). */
  times: GroupTimes;
  /** Threads runnable on the machine at the sample (the sampler's own included). */
  runnable: number;
}

export interface LockWait {
  pid: number;
  side: Side;
  query: string;
  lock: string;
  /** performance.now() of the first and last sample that saw it. */
  firstSeen: number;
  lastSeen: number;
  /** now() − pg_locks.waitstart at the last sample that saw it. */
  longestMs: number;
  blockers: string[];
}

interface BackendRow {
  pid: number;
  client_port: number | null;
  state: string | null;
  wait_event_type: string | null;
  wait_event: string | null;
  query: string;
  blockers: number[];
  waiting: { locktype: string; mode: string; relation: string | null; waitstart: string | null; waited_ms: number | null }[] | null;
}

const SNAPSHOT = `
SELECT a.pid, a.client_port, a.state, a.wait_event_type, a.wait_event, left(a.query, 160) AS query,
       pg_blocking_pids(a.pid) AS blockers,
       (SELECT json_agg(json_build_object('locktype', l.locktype, 'mode', l.mode, 'relation', l.relation::regclass::text,
                                          'waitstart', l.waitstart, 'waited_ms', extract(epoch FROM clock_timestamp() - l.waitstart) * 1000))
          FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted) AS waiting
  FROM pg_stat_activity a
 WHERE a.datname = current_database() AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()`;

export interface ContentionSampler {
  /** The CLI's pid (GNU time's, whose child is the node process) once an import is spawned. */
  importStarted(timePid: number): void;
  /** What a request that ran over [start, end] (performance.now()) had around it. */
  explain(start: number, end: number): LoginExplanation;
  /** Over [from, to]: the longest lock waits and how busy each side was. */
  summarise(from: number, to: number): ContentionSummary;
  stop(): Promise<void>;
}

export interface LoginExplanation {
  /** Deltas over the request, per group of threads. */
  times: GroupTimes;
  /** The longest lock wait of a service backend that overlapped it, in ms (0: none seen). */
  lockWaitMs: number;
  /** The largest event-loop delay the service reported in a scrape window overlapping it. */
  eventLoopLagMs: number;
}

export interface ContentionSummary {
  serviceLockWaits: LockWait[];
  importLockWaits: LockWait[];
  /** Samples of the service's active backends by wait_event ('CPU' when none), ~20 ms each. */
  serviceWaitEvents: Record<string, number>;
  times: GroupTimes;
  wallMs: number;
  samples: number;
  maxEventLoopLagMs: number;
  /** Mean of the machine's runnable threads over the samples: above the CPU count, threads queue. */
  meanRunnable: number;
}

export async function startContentionSampler(databaseUrl: string, service: { pid: number; adminUrl: string }): Promise<ContentionSampler> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const ticks: Tick[] = [];
  const waits = new Map<string, LockWait>();
  const waitEvents: { t: number; event: string }[] = [];
  const lags: { from: number; to: number; maxMs: number }[] = [];
  const sides = new Map<string, Side>();
  // Cumulative times of processes and threads that may exit: their last reading stays counted.
  const last = new Map<string, { group: Group; times: SchedTimes }>();
  let servicePorts = new Set<number>();
  let importPid: number | undefined;
  let timePid: number | undefined;
  let running = true;

  const sideOf = (row: BackendRow): Side => {
    const key = `${row.pid}:${row.client_port}`;
    let side = sides.get(key);
    if (side === undefined) {
      if (row.client_port !== null && !servicePorts.has(row.client_port)) servicePorts = localPorts(service.pid);
      side = row.client_port !== null && servicePorts.has(row.client_port) ? 'service' : 'import';
      sides.set(key, side);
    }
    return side;
  };
  const read = (key: string, group: Group, times: SchedTimes | undefined) => {
    if (times) last.set(key, { group, times });
  };

  const tick = async () => {
    const { rows } = await client.query<BackendRow>(SNAPSHOT);
    const t = performance.now();
    const byPid = new Map(rows.map((r) => [r.pid, r]));
    for (const row of rows) {
      const side = sideOf(row);
      read(`pg${row.pid}`, side === 'service' ? 'serviceBackends' : 'importBackends', threadTimes(row.pid));
      if (side === 'service' && row.state === 'active')
        waitEvents.push({ t, event: row.wait_event_type ? `${row.wait_event_type}: ${row.wait_event}` : 'CPU' });
      for (const lock of row.waiting ?? []) {
        const key = `${row.pid}/${lock.locktype}/${lock.relation}/${lock.waitstart}`;
        const wait = waits.get(key) ?? {
          pid: row.pid,
          side,
          query: row.query,
          lock: `${lock.mode} on ${lock.locktype}${lock.relation ? ` ${lock.relation}` : ''}`,
          firstSeen: t,
          lastSeen: t,
          longestMs: 0,
          blockers: row.blockers.map((pid) => {
            const b = byPid.get(pid);
            return b ? `${sideOf(b)} pid ${pid}: ${b.query}` : `pid ${pid}`;
          }),
        };
        wait.lastSeen = t;
        // waitstart is set a moment after the wait begins (pg_locks): null for a wait just started.
        wait.longestMs = Math.max(wait.longestMs, lock.waited_ms ?? 0);
        waits.set(key, wait);
      }
    }
    for (const tid of threadIds(service.pid)) {
      // The main thread and the niced hashing threads only: V8's and libuv's helpers are not a login's path.
      if (tid === service.pid) read(`svc${tid}`, 'eventLoop', threadTimes(service.pid, tid));
      else if ((threadNice(service.pid, tid) ?? 0) > 0) read(`svc${tid}`, 'hashing', threadTimes(service.pid, tid));
    }
    if (timePid !== undefined) {
      importPid ??= childOf(timePid);
      if (importPid !== undefined) for (const tid of threadIds(importPid)) read(`cli${importPid}/${tid}`, 'importCli', threadTimes(importPid, tid));
    }
    const times = Object.fromEntries(GROUPS.map((g) => [g, noTimes()])) as GroupTimes;
    for (const { group, times: own } of last.values()) addTimes(times[group], own);
    const machine = machineTimes();
    times.machine.cpuMs = machine.cpuMs;
    ticks.push({ t, times, runnable: machine.runnable });
  };

  const polling = (async () => {
    while (running) {
      const started = performance.now();
      // A failed sample (a backend gone between the snapshot and /proc) is skipped, not fatal.
      await tick().catch(() => {});
      await sleep(Math.max(1, TICK_MS - (performance.now() - started)));
    }
  })();
  const scraping = (async () => {
    let from = performance.now();
    while (running) {
      await sleep(SCRAPE_MS);
      try {
        const text = await (await fetch(`${service.adminUrl}/metrics`)).text();
        const value = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1];
        const to = performance.now();
        if (value !== undefined) lags.push({ from, to, maxMs: Number(value) * 1000 });
        from = to;
      } catch {
        // the service is stopping
      }
    }
  })();

  const around = (start: number, end: number): [Tick, Tick] => {
    const before = ticks.findLast((k) => k.t <= start) ?? (ticks[0] as Tick);
    const after = ticks.find((k) => k.t >= end) ?? (ticks.at(-1) as Tick);
    return [before, after];
  };
  const delta = (a: Tick, b: Tick) => Object.fromEntries(GROUPS.map((g) => [g, subtractTimes(b.times[g], a.times[g])])) as GroupTimes;
  const overlapping = (start: number, end: number) => [...waits.values()].filter((w) => w.lastSeen >= start && w.firstSeen <= end);

  return {
    importStarted(pid) {
      timePid = pid;
      importPid = undefined;
    },
    explain(start, end) {
      const [a, b] = around(start, end);
      const lockWaits = overlapping(start, end).filter((w) => w.side === 'service');
      return {
        times: delta(a, b),
        lockWaitMs: Math.max(0, ...lockWaits.map((w) => w.longestMs)),
        eventLoopLagMs: Math.max(0, ...lags.filter((l) => l.to >= start && l.from <= end).map((l) => l.maxMs)),
      };
    },
    summarise(from, to) {
      const [a, b] = around(from, to);
      const lockWaits = overlapping(from, to).sort((x, y) => y.longestMs - x.longestMs);
      const serviceWaitEvents: Record<string, number> = {};
      for (const w of waitEvents) if (w.t >= from && w.t <= to) serviceWaitEvents[w.event] = (serviceWaitEvents[w.event] ?? 0) + 1;
      const within = ticks.filter((k) => k.t >= from && k.t <= to);
      return {
        serviceLockWaits: lockWaits.filter((w) => w.side === 'service'),
        importLockWaits: lockWaits.filter((w) => w.side === 'import'),
        serviceWaitEvents,
        times: delta(a, b),
        wallMs: b.t - a.t,
        samples: within.length,
        meanRunnable: within.reduce((sum, k) => sum + k.runnable, 0) / Math.max(1, within.length),
        maxEventLoopLagMs: Math.max(0, ...lags.filter((l) => l.to >= from && l.from <= to).map((l) => l.maxMs)),
      };
    },
    async stop() {
      running = false;
      await Promise.all([polling, scraping]);
      await client.end();
    },
  };
}
