// The bench's tables of what the probe's requests waited for during each run (import-contention.ts):
// the longest lock waits seen in PostgreSQL, how much CPU each side took, and, for the slowest
// logins, where their time went.
import type { ContentionSampler, ContentionSummary, LockWait } from './import-contention.js';
import type { ProbeSample } from './import-probe.js';
import type { SchedTimes } from './proc-sched.js';

const ms = (value: number) => `${Math.round(value)} ms`;
const cell = (t: SchedTimes) => `${ms(t.cpuMs)} / ${ms(t.runQueueMs)}`;
const md = (text: string) => text.replace(/\s+/g, ' ').replaceAll('|', '\\|');

function lockCell(waits: LockWait[]): string {
  const w = waits[0];
  if (!w) return 'none seen';
  return `${ms(w.longestMs)}: \`${md(w.query)}\` waiting for ${w.lock}, blocked by ${md(w.blockers.join('; ')) || '-'} (${waits.length} waits)`;
}

export interface RunContention {
  run: string;
  summary: ContentionSummary;
  /** The probe's samples of login kinds during the run, with their wait beyond the baseline. */
  logins: { kind: string; sample: ProbeSample; waitMs: number }[];
}

export function runContention(
  sampler: ContentionSampler,
  run: string,
  samples: ProbeSample[],
  baselines: Map<string, number>,
  from: number,
  to: number,
): RunContention {
  const logins = samples
    .filter((s) => baselines.has(s.kind) && s.end >= from && s.start <= to)
    .map((sample) => ({ kind: sample.kind, sample, waitMs: Math.max(0, sample.end - sample.start - (baselines.get(sample.kind) as number)) }));
  return { run, summary: sampler.summarise(from, to), logins };
}

export function contentionTables(sampler: ContentionSampler, runs: RunContention[], slowest = 3): string {
  const lines = [
    "Lock waits and CPU during each run (PostgreSQL sampled every ~20 ms: pg_stat_activity, pg_locks not granted with waitstart, pg_blocking_pids; the threads' scheduler times from /proc/<pid>/task/<tid>/schedstat; CPU / run-queue wait):\n",
    '| window | samples | longest lock wait of a service backend | longest lock wait of an import backend | service backends active (samples by wait event) | import CPU (CLI + its backends) | machine CPU, mean runnable threads | service event loop / hashing threads: CPU / run queue | max event-loop delay |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { run, summary: s } of runs) {
    const events = Object.entries(s.serviceWaitEvents)
      .sort((a, b) => b[1] - a[1])
      .map(([event, count]) => `${event} ${count}`)
      .join(', ');
    const importCpu = s.times.importCli.cpuMs + s.times.importBackends.cpuMs;
    const split = `CLI ${ms(s.times.importCli.cpuMs)} + backends ${ms(s.times.importBackends.cpuMs)}`;
    lines.push(
      `| ${run} | ${s.samples} | ${lockCell(s.serviceLockWaits)} | ${lockCell(s.importLockWaits)} | ${events || '-'} | ${split} in ${(s.wallMs / 1000).toFixed(1)} s (${(importCpu / s.wallMs).toFixed(2)} cores) | ${(s.times.machine.cpuMs / s.wallMs).toFixed(2)} cores, ${s.meanRunnable.toFixed(1)} | ${cell(s.times.eventLoop)}; ${cell(s.times.hashing)} | ${ms(s.maxEventLoopLagMs)} |`,
    );
  }
  lines.push(
    `\nThe ${slowest} slowest logins of each window, and where their time went (over the request: CPU / run-queue wait of each thread group; run queue = runnable, waiting for a CPU):\n`,
    '| window | request | took | wait | lock wait seen | event loop | hashing threads | service backends | import CLI + backends (CPU) | machine CPU | event-loop delay |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const { run, logins } of runs) {
    for (const { kind, sample, waitMs } of [...logins].sort((a, b) => b.waitMs - a.waitMs).slice(0, slowest)) {
      const e = sampler.explain(sample.start, sample.end);
      lines.push(
        `| ${run} | ${kind} | ${ms(sample.end - sample.start)} | ${ms(waitMs)} | ${e.lockWaitMs > 0 ? ms(e.lockWaitMs) : 'none'} | ${cell(e.times.eventLoop)} | ${cell(e.times.hashing)} | ${cell(e.times.serviceBackends)} | ${ms(e.times.importCli.cpuMs + e.times.importBackends.cpuMs)} | ${ms(e.times.machine.cpuMs)} | ${ms(e.eventLoopLagMs)} |`,
      );
    }
  }
  // Over all of a run's logins: how much of their wait the run queue and locks account for.
  lines.push('\nAll logins of each window: their summed wait beyond the baseline, against the run-queue and lock waits seen over them:\n');
  lines.push(
    "| window | logins | summed wait | hashing threads' run queue | event loop's run queue | service backends' run queue | lock waits |",
    '|---|---|---|---|---|---|---|',
  );
  for (const { run, logins } of runs) {
    const sum = { wait: 0, hashing: 0, eventLoop: 0, backends: 0, locks: 0 };
    for (const { sample, waitMs } of logins) {
      const e = sampler.explain(sample.start, sample.end);
      sum.wait += waitMs;
      sum.hashing += e.times.hashing.runQueueMs;
      sum.eventLoop += e.times.eventLoop.runQueueMs;
      sum.backends += e.times.serviceBackends.runQueueMs;
      sum.locks += e.lockWaitMs;
    }
    lines.push(
      `| ${run} | ${logins.length} | ${ms(sum.wait)} | ${ms(sum.hashing)} | ${ms(sum.eventLoop)} | ${ms(sum.backends)} | ${ms(sum.locks)} |`,
    );
  }
  return lines.join('\n');
}
