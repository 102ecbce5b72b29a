// bench/db-pool: how many concurrent password grants one instance serves with a database pool of
// DATABASE_POOL_MAX = N, for a few N, through PgBouncer when TEST_PGBOUNCER_URL is set (directly
// otherwise). For each N the real service runs as a child process with bench/lib/pool-probe.mjs
// preloaded, which times every checkout of a pooled connection; 50 connections send password
// grants for a fixed time. A grant holds a connection for (checkout time ÷ grants) seconds, so a
// pool of N carries at most N ÷ that many grants per second: the figure docs/database.md sizes
// pools with (replicas × pool ≤ max_connections − reserve). PostgreSQL's own session statistics
// (pg_stat_database active_time + idle_in_transaction_time, PostgreSQL 14+) say how much of that
// time the server itself spends.
//   source scripts/test-services.sh && npx tsx bench/db-pool.ts
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import pg from 'pg';
import { createStack, passwordGrantBody, requireServers, seedReseller } from './lib/stack.js';

const POOLS = (process.env.BENCH_POOLS ?? '1,2,10').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
// Every core hashes, so that the database, not HASH_CONCURRENCY, is what a small pool could limit.
const CORES = availableParallelism();

interface DbTimes {
  busyMs: number;
  commits: number;
}

async function databaseTimes(admin: pg.Client, database: string): Promise<DbTimes> {
  // Backends flush their session statistics at most once a second when idle (PostgreSQL 15
  // pgstat_report_stat): wait that out so the figures include the last requests.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const { rows } = await admin.query<{ busy: number; commits: string }>(
    'SELECT active_time + idle_in_transaction_time AS busy, xact_commit AS commits FROM pg_stat_database WHERE datname = $1',
    [database],
  );
  const row = rows[0];
  if (!row) throw new Error(`no statistics for ${database}`);
  return { busyMs: Number(row.busy), commits: Number(row.commits) };
}

interface ProbeStats {
  holdMs: number;
  checkouts: number;
  peakCheckedOut: number;
  peakWaiting: number;
}

async function probe(file: string): Promise<ProbeStats> {
  await new Promise((resolve) => setTimeout(resolve, 300)); // the probe writes every 100 ms
  return JSON.parse(readFileSync(file, 'utf8')) as ProbeStats;
}

/** `node --import tsx src/server.ts`, the pool probe preloaded: the service without a build step. */
async function startServer(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn('node', ['--import', 'tsx', '--import', './bench/lib/pool-probe.mjs', 'src/server.ts'], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('service did not start within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
    lines.on('line', (line) => {
      if (!line.includes('"msg":"listening"')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

async function main(): Promise<void> {
  const { databaseUrl } = requireServers();
  const bouncer = process.env.TEST_PGBOUNCER_URL ? new URL(process.env.TEST_PGBOUNCER_URL) : undefined;
  const rows: string[] = [];
  for (const pool of POOLS) {
    const stack = await createStack({ DATABASE_POOL_MAX: String(pool), HASH_CONCURRENCY: String(CORES) });
    const database = new URL(stack.env.DATABASE_URL as string);
    if (bouncer) database.host = bouncer.host;
    stack.env.DATABASE_URL = database.toString();
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    const credentials = await seedReseller(stack.env);
    const probeFile = join(tmpdir(), `db-pool-probe-${randomBytes(4).toString('hex')}.json`);
    const server = await startServer({ ...stack.env, POOL_PROBE_FILE: probeFile });
    try {
      const body = passwordGrantBody(credentials);
      const load = (seconds: number) =>
        autocannon({
          url: `${server.url}/oauth/token`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          connections: CONNECTIONS,
          duration: seconds,
          // 50 grants queue for the hash: only the service's own 10 s bound (a 503) should end one.
          timeout: 30,
        });
      await load(2); // warm-up
      // autocannon stops sending, but the service still hashes the warm-up's last requests: one
      // more grant queues behind them, and its answer says they are done.
      await fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const name = database.pathname.slice(1);
      const before = await databaseTimes(admin, name);
      const held = await probe(probeFile);
      const result = await load(SECONDS);
      const heldAfter = await probe(probeFile);
      const after = await databaseTimes(admin, name);
      const grants = result['2xx'];
      const holdPerGrant = (heldAfter.holdMs - held.holdMs) / grants;
      const serverPerGrant = (after.busyMs - before.busyMs) / grants;
      const checkoutsPerGrant = (heldAfter.checkouts - held.checkouts) / grants;
      rows.push(
        `| ${pool} | ${CONNECTIONS} | ${(grants / SECONDS).toFixed(1)} | ${result.latency.p50} ms | ${result.latency.p99} ms | ${result.non2xx} / ${result.errors + result.timeouts} | ${checkoutsPerGrant.toFixed(1)} | ${holdPerGrant.toFixed(2)} ms | ${serverPerGrant.toFixed(2)} ms | ${heldAfter.peakCheckedOut} / ${heldAfter.peakWaiting} | ${Math.round(pool / (holdPerGrant / 1000))} | ${(loadavg()[0] as number).toFixed(1)} |`,
      );
    } finally {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        await new Promise<void>((resolve) => {
          server.child.once('exit', () => resolve());
          // SIGINT closes at once; SIGTERM would first drain for SHUTDOWN_DELAY.
          server.child.kill('SIGINT');
        });
      }
      await admin.end();
      await stack.close();
      rmSync(probeFile, { force: true });
      rmSync(`${probeFile}.tmp`, { force: true });
    }
  }
  console.log(
    `\n### bench/db-pool — ${new Date().toISOString().slice(0, 10)}, ${SECONDS} s per pool size, ${CONNECTIONS} connections of password grants, HASH_CONCURRENCY=${CORES}, ${bouncer ? 'through PgBouncer (transaction mode)' : 'direct to PostgreSQL'}\n`,
  );
  console.log(
    '| DATABASE_POOL_MAX | concurrent grants | grants/s | p50 | p99 | non-2xx / socket errors | checkouts per grant | connection held per grant | of it in PostgreSQL | peak checked out / waiting | grants/s the pool can carry | load average (1 min) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
