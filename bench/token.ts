// bench/token: password-grant throughput of the real service (PostgreSQL + Redis) next to the raw
// argon2id verify rate of this machine with the same parameters, measured in one run, rounds
// alternating, reported as a ratio (issue 2: the hash should be the only cost that matters, so
// the grant should reach ≥ 0.8 of the raw rate). Then the response-time medians of an unknown
// e-mail and a wrong password side by side (they must not tell which e-mails exist).
//   source scripts/test-services.sh && npm run bench:token
import { availableParallelism } from 'node:os';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { ARGON2_PARAMS } from '../src/security/argon2-params.js';
import { createStack, median, seedReseller, startService } from './lib/stack.js';

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

async function grantRate(url: string, body: string, seconds: number): Promise<{ rps: number; errors: number }> {
  const result = await autocannon({
    url: `${url}/oauth/token`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
  return { rps: result.requests.average, errors: result.errors + result.non2xx + result.timeouts };
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
    const body = JSON.stringify({
      grant_type: 'password',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      username: credentials.email,
      password: credentials.password,
      scope: '',
    });
    await grantRate(service.publicUrl, body, 2); // warm-up
    const rows: { round: number; raw: number; grant: number; ratio: number; errors: number }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const raw = await rawVerifyRate(SECONDS, CORES);
      const grant = await grantRate(service.publicUrl, body, SECONDS);
      rows.push({ round, raw, grant: grant.rps, ratio: grant.rps / raw, errors: grant.errors });
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
    console.log('| round | raw argon2id verify/s | password grant req/s | ratio | errors |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.round} | ${r.raw.toFixed(1)} | ${r.grant.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.errors} |`);
    console.log(`\n**median ratio: ${median(rows.map((r) => r.ratio)).toFixed(2)}** (goal ≥ 0.80)\n`);
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
