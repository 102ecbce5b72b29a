// One `reseller-auth import-passport` run as the runbook runs it: the built CLI as a process of
// its own, timed, under GNU time, whose %M is the kernel's own peak resident set size of the
// process (wait4's ru_maxrss: exact, where sampling /proc could miss a short peak).
import { spawn } from 'node:child_process';
import { childOf } from './proc-sched.js';

export interface ImportRun {
  exitCode: number | null;
  wallMs: number;
  peakRssMb: number;
  /** The CLI's JSON report (--output json), when it printed one. */
  report: ImportReportSummary | null;
  stderr: string;
  /** performance.now() at spawn and exit, to place the probe's samples. */
  startedAt: number;
  endedAt: number;
}

export interface ImportReportSummary {
  committed: boolean;
  conflicts: unknown[];
  invalid: unknown[];
  changes: unknown[];
  unmappedClients: number[];
  tokens: Record<string, number> | null;
}

/** A run far beyond this is broken, not slow: stop it so that the benchmark still cleans up. */
const RUN_LIMIT_MS = 30 * 60_000;

const MAX_RSS = /^RA_BENCH_MAX_RSS_KB=(\d+)$/m;

/** `onSpawn` gets GNU time's pid (the node process is its only child). */
export async function runImport(
  args: string[],
  env: Record<string, string>,
  nodeOptions: string[] = [],
  onSpawn?: (pid: number) => void,
): Promise<ImportRun> {
  const startedAt = performance.now();
  // BENCH_IMPORT_NICE runs the CLI under nice(1) (which execs node: the pid stays GNU time's child).
  const nice = process.env.BENCH_IMPORT_NICE ? ['nice', '-n', process.env.BENCH_IMPORT_NICE] : [];
  const command = [...nice, 'node', ...nodeOptions, 'dist/cli/main.js', 'import-passport', ...args, '--output', 'json'];
  const child = spawn('/usr/bin/time', ['-f', 'RA_BENCH_MAX_RSS_KB=%M', ...command], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) onSpawn?.(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const limit = setTimeout(() => {
    const node = childOf(child.pid as number);
    if (node !== undefined) process.kill(node, 'SIGKILL');
    child.kill('SIGKILL');
  }, RUN_LIMIT_MS);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const endedAt = performance.now();
  clearTimeout(limit);
  await new Promise((resolve) => (child.stdout.readableEnded ? resolve(undefined) : child.stdout.once('end', resolve)));
  let report: ImportReportSummary | null = null;
  try {
    report = JSON.parse(stdout) as ImportReportSummary;
  } catch {
    report = null;
  }
  const peakKb = Number(MAX_RSS.exec(stderr)?.[1] ?? Number.NaN);
  stderr = stderr.replace(MAX_RSS, '').trim();
  return { exitCode, wallMs: endedAt - startedAt, peakRssMb: peakKb / 1024, report, stderr, startedAt, endedAt };
}
