// bench/introspect-cluster: the same service, introspecting, with its token store on the 3-master
// Redis Cluster against on one Redis server, in one run: rounds alternate, each on a fresh pair of
// processes (bench/README.md, "Every round starts fresh processes"), and the result is the median
// ratio cluster / one server (goal ≥ 0.9, zero errors). Both services share one PostgreSQL
// database; each has its own key prefix and its own token, issued through its own password grant.
//   source scripts/test-services.sh && npm run bench:introspect-cluster
// Environment: BENCH_ROUNDS (5), BENCH_SECONDS (8); TEST_REDIS_CLUSTER_NODES from test-services.sh.
import { randomBytes } from 'node:crypto';
import {
  BENCH_ROUNDS,
  BENCH_SECONDS,
  CONNECTIONS,
  type IntrospectionLoad,
  loadIntrospection,
  measureIntrospection,
  type Run,
  WARM_UP_SECONDS,
} from './lib/introspection-load.js';
import { createStack, median, seedReseller, seedResourceServer, startService } from './lib/stack.js';

const ROUNDS = BENCH_ROUNDS;
const SECONDS = BENCH_SECONDS;
const GOAL = 0.9;

interface Target {
  name: 'one server' | 'cluster';
  env: Record<string, string>;
  load: Omit<IntrospectionLoad, 'seconds'>;
}

async function main(): Promise<void> {
  const nodes = process.env.TEST_REDIS_CLUSTER_NODES;
  if (!nodes) {
    console.error('Set TEST_REDIS_CLUSTER_NODES first: source scripts/test-services.sh');
    process.exit(2);
  }
  const stack = await createStack();
  const single = stack.env;
  const { REDIS_URL: _url, ...withoutRedis } = single;
  const cluster = { ...withoutRedis, REDIS_CLUSTER_NODES: nodes, REDIS_KEY_PREFIX: `benchc${randomBytes(3).toString('hex')}:` };
  try {
    const reseller = await seedReseller(single);
    const rs = await seedResourceServer(single);
    const authorization = `Basic ${Buffer.from(`${rs.clientId}:${rs.secret}`).toString('base64')}`;
    const targets: Target[] = [];
    for (const [name, env] of [
      ['one server', single],
      ['cluster', cluster],
    ] as const) {
      const service = await startService(env);
      try {
        const issued = await fetch(`${service.publicUrl}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            grant_type: 'password',
            client_id: reseller.clientId,
            client_secret: reseller.clientSecret,
            username: reseller.email,
            password: reseller.password,
            scope: '',
          }),
        });
        const { access_token: token } = (await issued.json()) as { access_token: string };
        const body = new URLSearchParams({ token, token_type_hint: 'access_token' }).toString();
        const answer = await fetch(`${service.publicUrl}/oauth/introspect`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
        const expectBody = await answer.text();
        if (answer.status !== 200 || !expectBody.startsWith('{"active":true'))
          throw new Error(`${name}: introspection does not work: ${answer.status} ${expectBody}`);
        targets.push({ name, env, load: { authorization, body, expectBody } });
      } finally {
        await service.stop();
      }
    }

    const rows: { round: number; runs: Record<Target['name'], Run>; ratio: number }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const running = await Promise.all(targets.map((target) => startService(target.env)));
      try {
        for (const [i, target] of targets.entries())
          await loadIntrospection(running[i]?.publicUrl as string, { ...target.load, seconds: WARM_UP_SECONDS });
        // Alternate which goes first, so neither always runs on a machine warmed by the other.
        const order = round % 2 === 1 ? [0, 1] : [1, 0];
        const runs: Partial<Record<Target['name'], Run>> = {};
        for (const i of order) {
          const target = targets[i] as Target;
          const service = running[i];
          runs[target.name] = await measureIntrospection(service?.process.pid, service?.publicUrl as string, { ...target.load, seconds: SECONDS });
        }
        const done = runs as Record<Target['name'], Run>;
        rows.push({ round, runs: done, ratio: done.cluster.rps / done['one server'].rps });
      } finally {
        await Promise.all(running.map((service) => service.stop()));
      }
    }

    const f = (n: number, d = 0) => n.toFixed(d);
    const us = (run: Run) => (run.cpuUs === undefined ? '—' : `${f(run.cpuUs)} µs`);
    console.log(
      `\n### bench/introspect-cluster — ${new Date().toISOString().slice(0, 10)}, ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections\n`,
    );
    console.log('| round | one server req/s | p99 | CPU/request | cluster req/s | p99 | CPU/request | ratio | errors (one / cluster) |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const { round, runs, ratio } of rows) {
      const [a, b] = [runs['one server'], runs.cluster];
      console.log(
        `| ${round} | ${f(a.rps)} | ${a.p99} ms | ${us(a)} | ${f(b.rps)} | ${b.p99} ms | ${us(b)} | ${f(ratio, 2)} | ${a.errors} / ${b.errors} |`,
      );
    }
    const errors = rows.reduce((n, r) => n + r.runs['one server'].errors + r.runs.cluster.errors, 0);
    console.log(`\n**median ratio cluster / one server: ${f(median(rows.map((r) => r.ratio)), 2)}** (goal ≥ ${GOAL}), errors: ${errors} (goal 0)\n`);
  } finally {
    await stack.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
