// bench/token: password-grant throughput of the real service (PostgreSQL + Redis) next to the raw
// argon2id verify rate of this machine with the same parameters, measured in one run, rounds
// alternating, reported as a ratio (the hash should be the only cost that matters, so the grant
// should reach ≥ 0.85 of the raw rate), with the service's CPU per grant outside its hashing
// threads. Then the response-time medians of an unknown e-mail and a wrong password side by side
// (they must not tell which e-mails exist). bench/token-cpu.ts splits that CPU by where it goes.
//   source scripts/test-services.sh && npm run bench:token
import { availableParallelism } from 'node:os';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { ARGON2_PARAMS } from '../src/security/argon2-params.js';
import { threadCpu } from './lib/cpu-profile.js';
import { createStack, median, passwordGrantBody, seedReseller, startService } from './lib/stack.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// The hash runs on every core here, in the service (HASH_CONCURRENCY) and in the raw loop alike,
// so that the ratio shows what the endpoint costs on top of the hash. The service's default keeps
// one core for the event loop instead (introspection latency during a login storm: bench/introspect).
const CORES = availableParallelism();
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = 20;

/**
 * Verifications per second with `concurrency` in flight, by the service's argon2 library and
 * parameters: its asynchronous verify runs on libuv's pool, on every core, at normal priority.
 */
async function rawVerifyRate(seconds: number, concurrency: number): Promise<number> {
  const hash = await argon2Hash('benchmark password', ARGON2_PARAMS);
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        await argon2Verify(hash, 'benchmark password');
        done += 1;
      }
    }),
  );
  return done / seconds;
}

/**
 * CPU milliseconds per grant of the service's threads other than the hashing ones (the
 * HASH_CONCURRENCY busiest besides the event loop) while `run` ran.
 */
async function cpuOutsideHash(pid: number | undefined, run: () => Promise<{ rps: number; errors: number; grants: number }>) {
  const before = pid === undefined ? undefined : threadCpu(pid);
  const result = await run();
  if (pid === undefined || !before || result.grants === 0) return { ...result, cpuMs: undefined };
  const deltas = [...threadCpu(pid)].map(([tid, ms]) => ({ tid, ms: ms - (before.get(tid) ?? 0) }));
  const hashing = deltas
    .filter((d) => d.tid !== pid)
    .sort((a, b) => b.ms - a.ms)
    .slice(0, CORES);
  const outside = deltas.reduce((sum, d) => sum + d.ms, 0) - hashing.reduce((sum, d) => sum + d.ms, 0);
  return { ...result, cpuMs: outside / result.grants };
}

async function grantRate(url: string, body: string, seconds: number): Promise<{ rps: number; errors: number; grants: number }> {
  const result = await autocannon({
    url: `${url}/oauth/token`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
  return { rps: result.requests.average, errors: result.errors + result.non2xx + result.timeouts, grants: result['2xx'] };
}

async function latency(url: string, body: object): Promise<number> {
  const start = process.hrtime.bigint();
  const res = await fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  const stack = await createStack({ HASH_CONCURRENCY: String(CORES) });
  const credentials = await seedReseller(stack.env);
  const service = await startService(stack.env);
  try {
    const body = passwordGrantBody(credentials);
    // Warm-up as long as a round: after 2 s the first round still cost ~0.5 ms more CPU per grant
    // than the later ones (the JIT still compiling the grant's path; bench/README.md).
    await grantRate(service.publicUrl, body, SECONDS);
    const rows: { round: number; raw: number; grant: number; ratio: number; errors: number; cpuMs: number | undefined }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const raw = await rawVerifyRate(SECONDS, CORES);
      const grant = await cpuOutsideHash(service.process.pid, () => grantRate(service.publicUrl, body, SECONDS));
      rows.push({ round, raw, grant: grant.rps, ratio: grant.rps / raw, errors: grant.errors, cpuMs: grant.cpuMs });
    }

    const unknown: number[] = [];
    const wrong: number[] = [];
    const base = JSON.parse(body) as Record<string, string>;
    for (let i = 0; i < 100; i++) {
      unknown.push(await latency(service.publicUrl, { ...base, username: `ninguem${i}@revenda.example` }));
      wrong.push(await latency(service.publicUrl, { ...base, password: `wrong-${i}` }));
    }

    console.log(
      `\n### bench/token — ${new Date().toISOString().slice(0, 10)}, ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections, HASH_CONCURRENCY=${CORES}\n`,
    );
    console.log('| round | raw argon2id verify/s | password grant req/s | ratio | service CPU per grant outside the hash | errors |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) {
      const cpu = r.cpuMs === undefined ? '?' : `${r.cpuMs.toFixed(2)} ms`;
      console.log(`| ${r.round} | ${r.raw.toFixed(1)} | ${r.grant.toFixed(1)} | ${r.ratio.toFixed(2)} | ${cpu} | ${r.errors} |`);
    }
    console.log(`\n**median ratio: ${median(rows.map((r) => r.ratio)).toFixed(2)}** (goal ≥ 0.85)\n`);
    console.log('| 100 sequential requests each | median response time |');
    console.log('|---|---|');
    console.log(`| unknown e-mail | ${median(unknown).toFixed(1)} ms |`);
    console.log(`| wrong password | ${median(wrong).toFixed(1)} ms |`);
  } finally {
    await service.stop();
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
