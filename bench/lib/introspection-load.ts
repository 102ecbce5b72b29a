// The introspection load both introspection benches put on a server: autocannon at a fixed number
// of connections, every answer checked against the expected active body, and the server's CPU
// time per request read from /proc around the run.
import autocannon from 'autocannon';
import { cpuMilliseconds } from './stack.js';

export const BENCH_ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 5));
export const BENCH_SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
/** Long enough for V8 to optimise both servers' request paths before anything is measured. */
export const WARM_UP_SECONDS = 5;
export const CONNECTIONS = 50;

export interface Run {
  rps: number;
  p50: number;
  p99: number;
  /** Every non-2xx, timeout, socket error and every body that is not the expected answer. */
  errors: number;
  /** The server process's CPU time per request in µs (all its threads), when /proc tells. */
  cpuUs?: number;
}

export interface IntrospectionLoad {
  authorization: string;
  /** The form body, token and hint. */
  body: string;
  expectBody: string;
  seconds: number;
  connections?: number;
}

export function loadIntrospection(url: string, opts: IntrospectionLoad): Promise<Run> {
  return autocannon({
    url: `${url}/oauth/introspect`,
    method: 'POST',
    headers: { authorization: opts.authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: opts.body,
    expectBody: opts.expectBody,
    connections: opts.connections ?? CONNECTIONS,
    duration: opts.seconds,
  }).then((r) => ({
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx + r.mismatches,
  }));
}

/**
 * A run, with the CPU time the server spent on it per request. Each server's event loop is
 * saturated during a run, so its throughput is one over this figure: the CPU per request shows
 * where a ratio comes from, whatever share of the machine the load generator took meanwhile.
 */
export async function measureIntrospection(pid: number | undefined, url: string, opts: IntrospectionLoad): Promise<Run> {
  const before = cpuMilliseconds(pid);
  const run = await loadIntrospection(url, opts);
  const after = cpuMilliseconds(pid);
  const served = run.rps * opts.seconds;
  if (before !== undefined && after !== undefined && served > 0) run.cpuUs = ((after - before) * 1000) / served;
  return run;
}
