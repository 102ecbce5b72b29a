// bench/introspect: introspection throughput and p99 latency of the real service (dist/server.js
// on PostgreSQL + Redis) at 50 connections, against the stack's ceiling (bench/introspect-ceiling.ts)
// on the same machine, measured in one run, rounds alternating, each round on a fresh pair of
// processes, reported as the median ratio (goal ≥ 0.85 with zero errors; bench/README.md). Every
// response is checked: a run counts an error for every non-2xx, timeout, socket error and every
// body that is not the expected active answer.
// Then the login storm: introspection p99 while 20 connections hammer the password grant
// (argon2id on every request), which HASH_CONCURRENCY must keep within 25 ms.
//   source scripts/test-services.sh && npm run bench:introspect
// Environment: BENCH_ROUNDS (5), BENCH_SECONDS (8), HASH_CONCURRENCY (the service's default).
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import {
  BENCH_ROUNDS,
  BENCH_SECONDS,
  CONNECTIONS,
  loadIntrospection,
  measureIntrospection,
  type Run,
  WARM_UP_SECONDS,
} from './lib/introspection-load.js';
import { createStack, median, seedReseller, seedResourceServer, startService } from './lib/stack.js';

const ROUNDS = BENCH_ROUNDS;
const SECONDS = BENCH_SECONDS;
const STORM_CONNECTIONS = 20;
const P99_GOAL_MS = 25;

async function startCeiling(env: Record<string, string>): Promise<{ url: string; pid: number | undefined; stop(): Promise<void> }> {
  const child: ChildProcess = spawn('node', ['--import', 'tsx', 'bench/introspect-ceiling.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ceiling server did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`ceiling server exited with ${code}`)));
    lines.on('line', (line) => {
      if (!line.includes('"msg":"listening"')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
  });
  return {
    url,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function main(): Promise<void> {
  const stack = await createStack(process.env.HASH_CONCURRENCY ? { HASH_CONCURRENCY: process.env.HASH_CONCURRENCY } : {});
  const redis = new Redis(stack.env.REDIS_URL as string);
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  let ceiling: Awaited<ReturnType<typeof startCeiling>> | undefined;
  try {
    const reseller = await seedReseller(stack.env);
    const rs = await seedResourceServer(stack.env);
    service = await startService(stack.env);
    const grantBody = JSON.stringify({
      grant_type: 'password',
      client_id: reseller.clientId,
      client_secret: reseller.clientSecret,
      username: reseller.email,
      password: reseller.password,
      scope: '',
    });
    const issued = await fetch(`${service.publicUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: grantBody,
    });
    const { access_token: token } = (await issued.json()) as { access_token: string };
    const authorization = `Basic ${Buffer.from(`${rs.clientId}:${rs.secret}`).toString('base64')}`;
    const body = new URLSearchParams({ token, token_type_hint: 'access_token' }).toString();
    const answer = await fetch(`${service.publicUrl}/oauth/introspect`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const expectBody = await answer.text();
    if (answer.status !== 200 || !expectBody.startsWith('{"active":true'))
      throw new Error(`introspection does not work: ${answer.status} ${expectBody}`);

    // The ceiling returns a record of the same size from the same Redis: the service's own answer.
    const key = `${stack.env.REDIS_KEY_PREFIX}ceiling`;
    await redis.set(key, expectBody);
    const ceilingEnv = { REDIS_URL: stack.env.REDIS_URL as string, CEILING_KEY: key, CEILING_AUTHORIZATION: authorization };

    const rows: { round: number; ceiling: Run; service: Run; ratio: number }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Fresh processes for every round: two processes of the very same server differ by up to
      // ±10% here (bench/README.md, "Every round starts fresh processes"), so one pair kept for
      // every round would carry that pair's luck into every ratio.
      if (round > 1) {
        await Promise.all([service.stop(), ceiling?.stop()]);
        service = await startService(stack.env);
      }
      ceiling = await startCeiling(ceilingEnv);
      const targets = { ceiling: ceiling.url, service: service.publicUrl };
      const pids = { ceiling: ceiling.pid, service: service.process.pid };
      for (const url of Object.values(targets)) await loadIntrospection(url, { authorization, body, expectBody, seconds: WARM_UP_SECONDS });
      // Alternate which goes first, so neither always runs on a machine warmed by the other.
      const order = round % 2 === 1 ? (['ceiling', 'service'] as const) : (['service', 'ceiling'] as const);
      const runs: Partial<Record<'ceiling' | 'service', Run>> = {};
      for (const name of order)
        runs[name] = await measureIntrospection(pids[name], targets[name], { authorization, body, expectBody, seconds: SECONDS });
      const c = runs.ceiling as Run;
      const s = runs.service as Run;
      rows.push({ round, ceiling: c, service: s, ratio: s.rps / c.rps });
    }
    await ceiling?.stop();
    ceiling = undefined;

    // The login storm: argon2id on every request of 20 connections, introspection measured meanwhile.
    const stormRun = autocannon({
      url: `${service.publicUrl}/oauth/token`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: grantBody,
      connections: STORM_CONNECTIONS,
      duration: SECONDS + 4,
    });
    await new Promise((r) => setTimeout(r, 2000)); // let the storm saturate the hashing pool first
    const during = await loadIntrospection(service.publicUrl, { authorization, body, expectBody, seconds: SECONDS });
    const storm = await stormRun;
    const hashConcurrency = stack.env.HASH_CONCURRENCY ?? String(loadConfig({}).hashConcurrency);

    const f = (n: number, d = 0) => n.toFixed(d);
    console.log(`\n### bench/introspect — ${new Date().toISOString().slice(0, 10)}, ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections\n`);
    const us = (run: Run) => (run.cpuUs === undefined ? '—' : `${f(run.cpuUs)} µs`);
    console.log(
      '| round | ceiling req/s | ceiling p99 | ceiling CPU/request | introspect req/s | introspect p99 | introspect CPU/request | ratio | errors (ceiling / introspect) |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      console.log(
        `| ${r.round} | ${f(r.ceiling.rps)} | ${r.ceiling.p99} ms | ${us(r.ceiling)} | ${f(r.service.rps)} | ${r.service.p99} ms | ${us(r.service)} | ${f(r.ratio, 2)} | ${r.ceiling.errors} / ${r.service.errors} |`,
      );
    }
    const errors = rows.reduce((n, r) => n + r.service.errors + r.ceiling.errors, 0);
    console.log(`\n**median ratio: ${f(median(rows.map((r) => r.ratio)), 2)}** (goal ≥ 0.85), errors: ${errors} (goal 0)\n`);
    const cpu = (name: 'ceiling' | 'service') => rows.map((r) => r[name].cpuUs).filter((v): v is number => v !== undefined);
    if (cpu('ceiling').length === rows.length && cpu('service').length === rows.length) {
      const [c, s] = [median(cpu('ceiling')), median(cpu('service'))];
      console.log(`Median CPU per request: ceiling ${f(c)} µs, introspect ${f(s)} µs (${f(s - c)} µs more).\n`);
    }
    console.log(
      `Login storm (${STORM_CONNECTIONS} connections on the password grant, HASH_CONCURRENCY=${hashConcurrency}, introspection at ${CONNECTIONS} connections):\n`,
    );
    console.log('| introspect req/s | introspect p50 | introspect p99 | password grants/s | grant errors | introspect errors |');
    console.log('|---|---|---|---|---|---|');
    console.log(
      `| ${f(during.rps)} | ${during.p50} ms | **${during.p99} ms** (goal ≤ ${P99_GOAL_MS}) | ${f(storm.requests.average, 1)} | ${storm.errors + storm.timeouts + storm.non2xx} | ${during.errors} |`,
    );
  } finally {
    await ceiling?.stop();
    await service?.stop();
    redis.disconnect();
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
