// bench/token-cpu: what a password grant costs in CPU besides its password hash, and where it
// goes. The service (dist/server.js) runs under `--cpu-prof` on PostgreSQL and on a Redis server
// of its own (so that the Redis figures are the service's alone), 20 connections send password
// grants as bench/token does, and over a measured window the script reads:
//   - the CPU of every thread of the service (the HASH_CONCURRENCY busiest besides the event loop
//     are the hashing threads), of its PostgreSQL backends and of the Redis server (/proc);
//   - PostgreSQL's transactions and active time for the database (pg_stat_database), Redis's
//     commands and their time (INFO commandstats);
//   - the event loop's CPU profile over the same window, self time grouped by the code it runs.
// CPU per grant hardly depends on how busy the machine is, unlike throughput: this is the figure
// to compare before and after a change on a shared machine (bench/README.md, "Token endpoint").
//   source scripts/test-services.sh && npx tsx bench/token-cpu.ts
// Environment: BENCH_SECONDS (15) per run, BENCH_ROUNDS (3) unprofiled runs per checkout,
// SERVICE_DIR (checkouts whose dist/server.js runs, comma-separated, compared round by round;
// default this one, built when needed), BENCH_TOP (also list the N functions with the most self time).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type Category, categorise, processesCpu, readProfile, selfTime, threadCpu } from './lib/cpu-profile.js';
import { cpuMilliseconds, createStack, median, passwordGrantBody, seedReseller, spawnService } from './lib/stack.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARM_UP_SECONDS = 4;
const CONNECTIONS = 20;
const HASH_THREADS = 2;
/** Checkouts whose dist/server.js runs (built beforehand, except this one: built when needed), compared round by round. */
const SERVICE_DIRS = (process.env.SERVICE_DIR ?? '.').split(',').map((dir) => resolve(dir));
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const TOP = Number(process.env.BENCH_TOP ?? 0);

/** By script URL, first match wins; frames without a script of their own count for their caller. */
const CATEGORIES: Category[] = [
  { name: 'Prisma: query building, compiler, result mapping', match: /\/(@prisma|\.prisma)\/|\/generated\/prisma\/|^wasm:/ },
  {
    name: 'PostgreSQL driver (pg) and the statement bound',
    match: /\/node_modules\/(pg|pg-protocol|pg-pool|pg-types|pgpass|postgres-[a-z]+|pg-int8)\/|\/dist\/db\//,
  },
  {
    name: 'ioredis: commands and replies',
    match: /\/node_modules\/(ioredis|redis-parser|redis-errors|denque|standard-as-callback|cluster-key-slot|lodash\.[a-z]+)\//,
  },
  { name: 'login limiter', match: /\/dist\/security\/(login-limiter|failure-counters|keyed-gate)\.js/ },
  { name: 'token store', match: /\/dist\/token-store\// },
  {
    name: 'OAuth library (@node-oauth): per-request set-up',
    match: /\/node_modules\/(@node-oauth|basic-auth|type-is|media-typer|mime-types|mime-db|content-type|safe-buffer)\//,
  },
  { name: 'token model, grants, client authentication', match: /\/dist\/oauth\/|\/dist\/security\/(networks|secret-box)\.js/ },
  { name: 'hashing pool client (piscina)', match: /\/node_modules\/piscina\/|\/dist\/security\/password-hasher\.js/ },
  {
    name: 'logging (pino, request observer)',
    match:
      /\/node_modules\/(pino|pino-std-serializers|sonic-boom|fast-redact|@pinojs|safe-stable-stringify|thread-stream|atomic-sleep|quick-format-unescaped|on-exit-leak-free)\/|\/dist\/(logger|request-observer|request-histogram)\.js/,
  },
  { name: 'metrics (prom-client)', match: /\/node_modules\/(prom-client|tdigest|bintrees)\/|\/dist\/metrics\.js/ },
  {
    name: 'route, validation, errors',
    match: /\/dist\/routes\/|\/node_modules\/(zod|fastify-type-provider-zod)\/|\/dist\/(errors|schemas\/|openapi\/)/,
  },
  {
    name: 'Fastify: routing, hooks, body parsing, reply',
    match:
      /\/node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|fast-json-stringify|secure-json-parse|fast-querystring|toad-cache|process-warning|rfdc|fast-uri|helmet|proxy-addr|forwarded)\/|\/dist\/plugins\//,
  },
  { name: 'other service code', match: /\/dist\// },
  { name: 'other packages', match: /\/node_modules\// },
];
const UNCLAIMED = 'Node.js internals (HTTP, sockets, streams, timers)';

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      break;
    } catch (err) {
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      probe.disconnect();
    }
  }
  return {
    url,
    pid: child.pid as number,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

async function startService(env: Record<string, string>, profileDir: string | undefined, dir: string): Promise<{ url: string; child: ChildProcess }> {
  const profiling = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-interval', '250'] : [];
  const { port, child } = await spawnService([...profiling, join(dir, 'dist/server.js')], env, dir);
  return { url: `http://127.0.0.1:${port}`, child };
}

interface Measured {
  grants: number;
  errors: number;
  seconds: number;
  /** CPU milliseconds over the window. */
  main: number;
  hashing: number;
  rest: number;
  backends: number;
  redis: number;
  xacts: number;
  activeMs: number;
  commandStats: string;
  /** hrtime µs of the window, for the profile. */
  fromUs: number;
  toUs: number;
}

/** One fresh service process under load: warm-up, then a measured window. */
async function measure(
  stack: { env: Record<string, string> },
  body: string,
  redis: { url: string; pid: number },
  profileDir: string | undefined,
  dir: string,
): Promise<Measured> {
  const started = await startService(stack.env, profileDir, dir);
  const service = started.child;
  const pid = service.pid as number;
  const db = new pg.Client({ connectionString: stack.env.DATABASE_URL });
  const redisClient = new Redis(redis.url);
  try {
    const load = (seconds: number) =>
      autocannon({
        url: `${started.url}/oauth/token`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections: CONNECTIONS,
        duration: seconds,
      });
    await load(WARM_UP_SECONDS);
    await db.connect();
    const backendPids = (
      await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')
    ).rows.map((r) => r.pid);
    const dbStats = async () => {
      await db.query('SELECT pg_stat_clear_snapshot()');
      const row = (
        await db.query<{ xact_commit: string; active_time: number }>(
          'SELECT xact_commit, active_time FROM pg_stat_database WHERE datname = current_database()',
        )
      ).rows[0];
      return { xacts: Number(row?.xact_commit ?? 0), activeMs: Number(row?.active_time ?? 0) };
    };
    // The statistics of PostgreSQL's backends reach pg_stat_database once they are idle.
    await new Promise((r) => setTimeout(r, 1500));
    await redisClient.config('RESETSTAT');
    const statsBefore = await dbStats();
    const fromUs = nowUs();
    const threadsBefore = threadCpu(pid);
    const backendsBefore = processesCpu(backendPids);
    const redisBefore = cpuMilliseconds(redis.pid) ?? 0;
    const result = await load(SECONDS);
    const toUs = nowUs();
    const threadsAfter = threadCpu(pid);
    const backends = processesCpu(backendPids) - backendsBefore;
    const redisCpu = (cpuMilliseconds(redis.pid) ?? 0) - redisBefore;
    const commandStats = await redisClient.info('commandstats');
    await new Promise((r) => setTimeout(r, 1500));
    const statsAfter = await dbStats();
    // Threads: the event loop (tid = pid), the hashing threads (the busiest others), the rest
    // (V8's GC helpers, libuv; V8's profiler thread when profiled).
    const deltas = [...threadsAfter].map(([tid, ms]) => ({ tid, ms: ms - (threadsBefore.get(tid) ?? 0) }));
    const others = deltas.filter((d) => d.tid !== pid).sort((a, b) => b.ms - a.ms);
    return {
      grants: result['2xx'],
      errors: result.non2xx + result.errors + result.timeouts,
      seconds: (toUs - fromUs) / 1e6,
      main: deltas.find((d) => d.tid === pid)?.ms ?? 0,
      hashing: others.slice(0, HASH_THREADS).reduce((s, d) => s + d.ms, 0),
      rest: others.slice(HASH_THREADS).reduce((s, d) => s + d.ms, 0),
      backends,
      redis: redisCpu,
      xacts: statsAfter.xacts - statsBefore.xacts,
      activeMs: statsAfter.activeMs - statsBefore.activeMs,
      commandStats,
      fromUs,
      toUs,
    };
  } finally {
    redisClient.disconnect();
    await db.end().catch(() => {});
    await new Promise((r) => {
      service.once('exit', r);
      service.kill('SIGTERM');
    });
  }
}

/** Per-grant figures of one unprofiled run, in ms (µs for Redis's server time per command). */
function perGrant(m: Measured): Record<string, number> {
  const per = (ms: number) => ms / m.grants;
  return {
    'service event loop': per(m.main),
    'service, other threads (GC helpers, libuv)': per(m.rest),
    'PostgreSQL backends': per(m.backends),
    'Redis server': per(m.redis),
    '**outside the hash, in all**': per(m.main + m.rest + m.backends + m.redis),
    'the hashing threads (argon2id)': per(m.hashing),
    'PostgreSQL transactions': per(m.xacts),
    'PostgreSQL active time': per(m.activeMs),
    'Redis scripts (EVAL, EVALSHA)': per(redisCalls(m.commandStats, true)),
    'Redis commands, those of the scripts included': per(redisCalls(m.commandStats, false)),
    'Redis server time (ms)': per(redisUsec(m.commandStats) / 1000),
  };
}

/** Commands Redis executed (`scripts`: EVAL and EVALSHA only; otherwise every command, those scripts run included). */
function redisCalls(stats: string, scripts: boolean): number {
  let calls = 0;
  for (const line of stats.split('\n')) {
    const c = /^cmdstat_([a-z|]+):calls=(\d+)/.exec(line.trim());
    if (!c || c[1] === 'config|resetstat' || c[1] === 'info') continue;
    if (!scripts || c[1] === 'eval' || c[1] === 'evalsha') calls += Number(c[2]);
  }
  return calls;
}

function redisUsec(stats: string): number {
  let usec = 0;
  for (const line of stats.split('\n')) {
    const c = /^cmdstat_([a-z|]+):calls=\d+,usec=(\d+)/.exec(line.trim());
    if (c && c[1] !== 'config|resetstat' && c[1] !== 'info') usec += Number(c[2]);
  }
  return usec;
}

async function main(): Promise<void> {
  const redis = await startRedis();
  process.env.TEST_REDIS_URL = redis.url;
  const stack = await createStack({ HASH_CONCURRENCY: String(HASH_THREADS) });
  const profileDir = mkdtempSync(join(tmpdir(), 'token-cpu-'));
  try {
    if (SERVICE_DIRS.includes(resolve('.'))) execFileSync('node', ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
    const credentials = await seedReseller(stack.env);
    const body = passwordGrantBody(credentials);
    // The CPU figures from processes without the profiler (its sampling costs the event loop and
    // adds a thread), a fresh one per round, the checkouts alternating; the profile, from one
    // more process per checkout, only splits the event loop's share.
    const runs = new Map<string, Measured[]>(SERVICE_DIRS.map((d) => [d, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? SERVICE_DIRS : [...SERVICE_DIRS].reverse();
      for (const dir of order) runs.get(dir)?.push(await measure(stack, body, redis, undefined, dir));
    }
    const shares = new Map<string, { byCategory: Map<string, number>; top: [string, number][] }>();
    for (const [i, dir] of SERVICE_DIRS.entries()) {
      const own = join(profileDir, String(i));
      const p = await measure(stack, body, redis, own, dir);
      const mainProfile = readdirSync(own).find((f) => f.split('.')[4] === '0');
      if (!mainProfile) throw new Error(`no profile of the main thread in ${own}`);
      const profile = readProfile(join(own, mainProfile));
      const categoryOf = categorise(profile, CATEGORIES, UNCLAIMED);
      const byCategory = selfTime(profile, p.fromUs, p.toUs, categoryOf);
      const where = (url: string) => url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/');
      const byFunction = selfTime(
        profile,
        p.fromUs,
        p.toUs,
        (id, f) => `${f.functionName || '(anonymous)'} ${where(f.url)}:${f.lineNumber + 1} | ${categoryOf(id)}`,
      );
      const sampled = [...byCategory.values()].reduce((a, b) => a + b, 0);
      const share = (m: Map<string, number>) => new Map([...m].map(([k, v]) => [k, v / sampled]));
      shares.set(dir, { byCategory: share(byCategory), top: [...share(byFunction)].sort((a, b) => b[1] - a[1]).slice(0, TOP) });
    }

    const medians = new Map(
      SERVICE_DIRS.map((dir) => {
        const figures = (runs.get(dir) ?? []).map(perGrant);
        const keys = Object.keys(figures[0] ?? {});
        return [dir, Object.fromEntries(keys.map((k) => [k, median(figures.map((f) => f[k] as number))]))] as const;
      }),
    );
    const head = (first: string) => {
      console.log(`| ${first} | ${SERVICE_DIRS.join(' | ')} |`);
      console.log(`|---|${SERVICE_DIRS.map(() => '---').join('|')}|`);
    };
    console.log(
      `\n### bench/token-cpu — ${new Date().toISOString().slice(0, 10)}, ${ROUNDS} round(s) of ${SECONDS} s, ${CONNECTIONS} connections, HASH_CONCURRENCY=${HASH_THREADS}\n`,
    );
    for (const dir of SERVICE_DIRS) {
      const rounds = runs.get(dir) ?? [];
      console.log(`${dir}: ${rounds.map((m) => `${m.grants} grants (${(m.grants / m.seconds).toFixed(1)}/s, ${m.errors} errors)`).join(', ')}`);
    }
    console.log(`load average at the end: ${readLoad()}\n`);
    head('per grant, median of the rounds (ms; PostgreSQL transactions and Redis commands: count)');
    for (const key of Object.keys(medians.get(SERVICE_DIRS[0] as string) ?? {})) {
      console.log(`| ${key} | ${SERVICE_DIRS.map((d) => (medians.get(d)?.[key] ?? 0).toFixed(2)).join(' | ')} |`);
    }
    console.log('\nThe event loop by code (shares of its self time in the profiled run, times the median event-loop CPU above), ms per grant:\n');
    head('where');
    const names = [...(shares.get(SERVICE_DIRS[0] as string)?.byCategory ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]).map(([n]) => n);
    for (const d of SERVICE_DIRS) for (const n of shares.get(d)?.byCategory.keys() ?? []) if (!names.includes(n)) names.push(n);
    for (const name of names) {
      const cells = SERVICE_DIRS.map((d) => ((shares.get(d)?.byCategory.get(name) ?? 0) * (medians.get(d)?.['service event loop'] ?? 0)).toFixed(2));
      console.log(`| ${name} | ${cells.join(' | ')} |`);
    }
    for (const dir of TOP > 0 ? SERVICE_DIRS : []) {
      console.log(`\n${dir}, the ${TOP} functions with the most self time:\n\n| function | counted as | ms per grant |\n|---|---|---|`);
      for (const [key, share] of shares.get(dir)?.top ?? [])
        console.log(`| ${key} | ${(share * (medians.get(dir)?.['service event loop'] ?? 0)).toFixed(3)} |`);
    }
  } finally {
    await stack.close();
    await redis.stop();
    rmSync(profileDir, { recursive: true, force: true });
  }
}

function readLoad(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
