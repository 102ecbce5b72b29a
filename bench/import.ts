// bench/import: `reseller-auth import-passport` at the scale of the DBS — 10,000 resellers (a
// password client and a user each) with 27,000 access and 27,000 refresh tokens — from a Passport
// database on PostgreSQL into a fresh database of ours, as the runbook runs it (the built CLI as a
// process of its own), then again (a re-run that finds nothing new). Measured: wall time,
// resellers/s and the CLI's peak resident memory; and, while each run goes on, what a login and
// an admin save against the running service wait (docs/passport-migration.md: the import runs
// again and again while the service answers). Goals: ≤ 256 MB, ≥ 200 resellers/s, ≤ 100 ms.
// Throughout, PostgreSQL's locks and waits and the threads' scheduler times are sampled every
// ~20 ms (bench/lib/import-contention.ts), so that a login's wait is told apart: a lock or the CPU.
//   source scripts/test-services.sh && npm run bench:import
//   BENCH_RESELLERS=1000 npm run bench:import          # a smaller set
//   BENCH_IMPORT_PROFILE=1 npm run bench:import        # + where time and memory go (--cpu-prof)
//   BENCH_IMPORT_NODE_OPTIONS='--max-old-space-size=128' npm run bench:import   # the CLI's node flags
//     (default: the runbook's --max-semi-space-size=16, docs/passport-migration.md; '' for none)
//   BENCH_IMPORT_NICE=19 npm run bench:import           # the CLI under nice(1)
//   BENCH_IMPORT_CONTROL_S=20 npm run bench:import      # the no-import control window before each run (default 10 s)
//   BENCH_IMPORT_SERVICE_ENV='HASH_NICENESS=0' npm run bench:import   # the service's (and CLI's) settings
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ContentionSampler, startContentionSampler } from './lib/import-contention.js';
import { type RunContention, contentionTables, runContention } from './lib/import-contention-report.js';
import { importPhases, phaseTable } from './lib/import-profile.js';
import { type ImportRun, runImport } from './lib/import-run.js';
import { adminSave, passwordGrant, type WaitSummary, startProbe, summariseWaits } from './lib/import-probe.js';
import { type ResellerLogin, fillPassportSource, resellerLogins } from './lib/import-source.js';
import { type RunningService, type Stack, createStack, requireServers, startService } from './lib/stack.js';

const RESELLERS = Number(process.env.BENCH_RESELLERS ?? 10_000);
// The runbook's command caps V8's young generation: Node.js 24 sizes it from the machine's memory
// and, on a large host with no memory limit, let it add some 80 MB to the import's peak.
const CLI_NODE_OPTIONS = process.env.BENCH_IMPORT_NODE_OPTIONS ?? '--max-semi-space-size=16';
// BENCH_IMPORT_PROFILE_DIR keeps the profiles (for DevTools) instead of a temporary directory.
const KEPT_PROFILES = process.env.BENCH_IMPORT_PROFILE_DIR;
const PROFILE = process.env.BENCH_IMPORT_PROFILE === '1' || KEPT_PROFILES !== undefined;
const GOAL = { peakRssMb: 256, resellersPerS: 200, waitMs: 100 };
/** Probe samples of each kind before a run: its baseline. */
const BASELINE_SAMPLES = 20;
/**
 * Then, still before the run, a window with no import, whose waits are measured like the run's:
 * what the machine's other work alone makes a request wait (the control).
 */
const CONTROL_MS = Number(process.env.BENCH_IMPORT_CONTROL_S ?? 10) * 1000;
const LOCAL = { resellerId: 'bench-local', email: 'bench.local@revenda.example', password: 'senha-local-do-bench' };

const mark = (met: boolean) => (met ? 'met' : '**not met**');
const ms = (value: number) => (Number.isNaN(value) ? '-' : `${Math.round(value)} ms`);

/** A reseller configured here in the panel before the import, so that an admin save has something to save. */
async function configureLocalReseller(service: RunningService, adminToken: string): Promise<ResellerLogin> {
  const res = await fetch(`${service.adminUrl}/admin/resellers/${LOCAL.resellerId}/api`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ name: 'Benchmark reseller', email: LOCAL.email, password: LOCAL.password, allowedIp: '127.0.0.0/8' }),
  });
  const body = (await res.json()) as { clientId: string; clientSecret: string };
  if (res.status !== 201) throw new Error(`configuring the local reseller answered ${res.status}: ${JSON.stringify(body)}`);
  return { resellerId: LOCAL.resellerId, clientId: body.clientId, clientSecret: body.clientSecret, email: LOCAL.email, password: LOCAL.password };
}

function checkRun(name: string, run: ImportRun): void {
  if (run.exitCode !== 0 || !run.report?.committed) {
    throw new Error(`${name}: import-passport exited with ${run.exitCode} (committed: ${run.report?.committed})\n${run.stderr.slice(-4000)}`);
  }
}

function waitCell(waits: WaitSummary[], kind: string): string {
  const w = waits.find((x) => x.kind === kind);
  if (!w) return '-';
  return `${ms(w.maxWaitMs)}${w.failures > 0 ? ` (${w.failures} failed)` : ''}`;
}

/** The code measured (BENCH_COMMIT names it when the tree is not a git checkout, e.g. an export of HEAD). */
function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown commit';
  }
}

async function main(): Promise<void> {
  requireServers();
  execFileSync('node', ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  const commit = process.env.BENCH_COMMIT ?? gitCommit();
  const stacks: Stack[] = [];
  let service: RunningService | undefined;
  let probe: ReturnType<typeof startProbe> | undefined;
  let contention: ContentionSampler | undefined;
  const profileDir = PROFILE ? (KEPT_PROFILES ?? mkdtempSync(join(tmpdir(), 'ra-import-prof-'))) : undefined;
  let cleaning: Promise<void> | undefined;
  const cleanUp = () => {
    cleaning ??= (async () => {
      await probe?.stop();
      await contention?.stop();
      await service?.stop();
      for (const stack of stacks) await stack.close();
      if (profileDir && !KEPT_PROFILES) rmSync(profileDir, { recursive: true, force: true });
    })();
    return cleaning;
  };
  // Interrupted, or its output cut short (`| head`): the databases are dropped all the same.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  process.stdout.on('error', () => {});
  try {
    const source = await createStack();
    stacks.push(source);
    // BENCH_IMPORT_SERVICE_ENV: the service's own settings for a run, e.g. 'HASH_NICENESS=0 HASH_CONCURRENCY=2'.
    const serviceEnv = Object.fromEntries(
      (process.env.BENCH_IMPORT_SERVICE_ENV ?? '')
        .split(' ')
        .filter(Boolean)
        .map((kv) => kv.split('=', 2)),
    );
    const target = await createStack(serviceEnv);
    stacks.push(target);
    const sourceUrl = source.env.DATABASE_URL as string;
    const filling = performance.now();
    const counts = await fillPassportSource(sourceUrl, RESELLERS);
    console.error(
      `Passport source: ${counts.resellers} resellers, ${counts.accessTokens} access + ${counts.refreshTokens} refresh tokens in ${((performance.now() - filling) / 1000).toFixed(1)} s`,
    );

    service = await startService(target.env);
    const adminToken = target.env.ADMIN_TOKENS as string;
    const local = await configureLocalReseller(service, adminToken);
    const sampling = await startContentionSampler(target.env.DATABASE_URL as string, {
      pid: service.process.pid as number,
      adminUrl: service.adminUrl,
    });
    contention = sampling;
    const contended: RunContention[] = [];
    probe = startProbe({ login: passwordGrant(service.publicUrl, local), 'admin PUT': adminSave(service.adminUrl, adminToken, local) });

    // The runbook's command: the mapping from the DBS table, the CLI with the service's own settings.
    const args = ['--map-table', 'revendas', '--map-allowed-ip-column', 'ip_liberado'];
    const cliEnv = { ...target.env, PASSPORT_DATABASE_URL: sourceUrl };
    const sampler = pathToFileURL(join(import.meta.dirname, 'lib', 'import-memory-sampler.mjs')).href;
    const extra = CLI_NODE_OPTIONS.split(' ').filter(Boolean);
    const nodeOptions = (run: string) => [
      ...extra,
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, run)}`, '--import', sampler] : []),
    ];
    const runEnv = (run: string) => (profileDir ? { ...cliEnv, RA_BENCH_MEMORY_FILE: join(profileDir, `${run}.memory.jsonl`) } : cliEnv);

    /**
     * One import with the probe's baseline and a control window taken just before it: the run and
     * what the probe waited, during the run and during the control.
     */
    const measured = async (name: 'first' | 'again', running: ReturnType<typeof startProbe>) => {
      const label = name === 'first' ? 'import' : 're-run';
      const baselineFrom = performance.now();
      await running.sampled(baselineFrom, BASELINE_SAMPLES);
      const controlFrom = performance.now();
      await sleep(CONTROL_MS);
      const controlTo = performance.now();
      console.error(`${label}…`);
      const run = await runImport(args, runEnv(name), nodeOptions(name), (pid) => sampling.importStarted(pid));
      checkRun(label, run);
      const waits = summariseWaits(running.samples(), baselineFrom, run.startedAt, run.endedAt, controlFrom);
      const controlWaits = summariseWaits(running.samples(), baselineFrom, controlFrom, controlTo);
      const logins = new Map(waits.filter((w) => w.kind.endsWith('login')).map((w) => [w.kind, w.baselineMs]));
      contended.push(runContention(sampling, `before the ${label}, no import`, running.samples(), logins, controlFrom, controlTo));
      contended.push(runContention(sampling, label, running.samples(), logins, run.startedAt, run.endedAt));
      return { run, waits, controlWaits };
    };
    const { run: first, waits: firstWaits, controlWaits: firstControl } = await measured('first', probe);

    // Now the accounts exist: a reseller's first login here re-hashes its bcrypt password, a write
    // to the users table. Each probe login is another reseller's first (the last ones imported).
    const logins = await resellerLogins(sourceUrl, Math.max(1, RESELLERS - 4999), RESELLERS);
    let next = 0;
    const firstLogin = () => {
      const login = logins[next++ % logins.length] as ResellerLogin;
      return passwordGrant(service?.publicUrl as string, login)();
    };
    probe.remove('login');
    probe.set('first login', firstLogin);
    const { run: again, waits: againWaits, controlWaits: againControl } = await measured('again', probe);
    await probe.stop();
    probe = undefined;

    const report = first.report;
    const t = report?.tokens ?? {};
    const rate = RESELLERS / (first.wallMs / 1000);
    const maxWait = Math.max(...[...firstWaits, ...againWaits].map((w) => w.maxWaitMs));
    // The goal is about locks: the longest wait of a service backend for a lock that PostgreSQL
    // showed during the two runs (not their control windows).
    const longestLockMs = Math.max(
      0,
      ...contended.filter((c) => !c.run.includes('no import')).flatMap((c) => c.summary.serviceLockWaits.map((w) => w.longestMs)),
    );
    const waitsMet = maxWait <= GOAL.waitMs && [...firstWaits, ...againWaits].every((w) => w.failures === 0);
    console.log(
      `### bench/import — ${new Date().toISOString().slice(0, 10)}, ${commit}, PostgreSQL → PostgreSQL${PROFILE ? ', profiled (--cpu-prof, memoryUsage every 100 ms)' : ''}${CLI_NODE_OPTIONS ? `, CLI with ${CLI_NODE_OPTIONS}` : ''}${process.env.BENCH_IMPORT_NICE ? `, CLI at nice ${process.env.BENCH_IMPORT_NICE}` : ''}${process.env.BENCH_IMPORT_SERVICE_ENV ? `, ${process.env.BENCH_IMPORT_SERVICE_ENV}` : ''}\n`,
    );
    console.log(
      '| resellers | access + refresh tokens | wall s | resellers/s | peak RSS MB | no-op re-run s / MB | max wait during the import (login / admin PUT) | max wait during the re-run (first login / admin PUT) |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    console.log(
      `| ${RESELLERS} | ${counts.accessTokens} + ${counts.refreshTokens} | ${(first.wallMs / 1000).toFixed(1)} | ${rate.toFixed(0)} | ${first.peakRssMb.toFixed(0)} | ${(again.wallMs / 1000).toFixed(1)} / ${again.peakRssMb.toFixed(0)} | ${waitCell(firstWaits, 'login')} / ${waitCell(firstWaits, 'admin PUT')} | ${waitCell(againWaits, 'first login')} / ${waitCell(againWaits, 'admin PUT')} |`,
    );
    console.log(
      `\nGoals: peak RSS ≤ ${GOAL.peakRssMb} MB ${mark(Math.max(first.peakRssMb, again.peakRssMb) <= GOAL.peakRssMb)}; ≥ ${GOAL.resellersPerS} resellers/s ${mark(rate >= GOAL.resellersPerS)}; no lock makes the service wait > ${GOAL.waitMs} ms ${mark(longestLockMs <= GOAL.waitMs)} (longest lock wait of a service backend during the runs: ${longestLockMs} ms); no wait of any cause > ${GOAL.waitMs} ms ${mark(waitsMet)}.`,
    );
    console.log(
      `\nFirst run: ${report?.changes.length} changes, tokens ${JSON.stringify(t)}, unmapped clients ${JSON.stringify(report?.unmappedClients)}; re-run: ${again.report?.changes.length} changes, tokens ${JSON.stringify(again.report?.tokens)}.`,
    );
    console.log(
      `\nProbe (one request at a time, ~50 ms apart; wait = time beyond the median of the 20 taken before a ${CONTROL_MS / 1000} s control window with no import, then the run):\n`,
    );
    console.log('| run | request | baseline median | samples during the run | p99 wait | max wait | failed |');
    console.log('|---|---|---|---|---|---|---|');
    for (const [run, waits] of [
      ['before the import, no import (control)', firstControl],
      ['import', firstWaits],
      ['before the re-run, no import (control)', againControl],
      ['re-run', againWaits],
    ] as const) {
      for (const w of waits)
        console.log(`| ${run} | ${w.kind} | ${ms(w.baselineMs)} | ${w.count} | ${ms(w.p99WaitMs)} | ${ms(w.maxWaitMs)} | ${w.failures} |`);
    }
    console.log(`\n${contentionTables(sampling, contended)}`);
    if (profileDir) {
      for (const name of ['first', 'again']) {
        const dir = join(profileDir, name);
        // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (others: hash workers).
        const file = readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
        if (!file) continue;
        console.log(
          `\nWhere the ${name === 'first' ? 'import' : 're-run'}'s time and memory go (1-second windows named after the importer file whose code ran most in them):\n`,
        );
        console.log(phaseTable(importPhases(join(dir, file), join(profileDir, `${name}.memory.jsonl`))));
      }
    }
  } finally {
    await cleanUp();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
