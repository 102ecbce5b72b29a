// GET /metrics (docs/deployment.md, "Metrics"): Prometheus text on the internal listener only. Traffic is
// driven first over real connections (a token issued, a login refused, a 404), then the scrape is
// parsed and every series docs/deployment.md lists is asserted, with its labels and values.
import t, { type Test } from 'tap';
import { INITIAL_SERIES } from '../../src/metrics.js';
import { build, eachBackend, passwordGrantBody, seedReseller } from '../helper.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

/** Prometheus text format 0.0.4: `# TYPE` lines and `name{label="value",…} number` samples. */
function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key as string] = (raw as string).replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: sample[1] as string, labels, value: Number(sample[3]) });
  }
  return { types, samples };
}

/** The samples of `name` whose labels include all of `labels`. */
function select(exposition: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The one sample of `name` with exactly these labels (fails the test when absent). */
function value(t: Test, exposition: Exposition, name: string, labels: Record<string, string>): number | undefined {
  const found = exposition.samples.filter((s) => s.name === name && sameLabels(s.labels, labels));
  t.equal(found.length, 1, `one ${name}${JSON.stringify(labels)} series`);
  return found[0]?.value;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

const REQUESTS = 'reseller_auth_http_requests_total';
const DURATION = 'reseller_auth_http_request_duration_seconds';
const BUCKETS = ['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];

eachBackend(t, async (t, backend) => {
  const ctx = await build(t, backend);
  const { publicUrl, adminUrl } = await ctx.listen();
  const reseller = await seedReseller(ctx.services);

  const postToken = (body: Record<string, unknown>) =>
    fetch(`${publicUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const started = performance.now();
  const issued = await postToken(passwordGrantBody(reseller));
  t.equal(issued.status, 200, 'a token is issued');
  await issued.arrayBuffer();
  const tokenSeconds = (performance.now() - started) / 1000;
  const refused = await postToken(passwordGrantBody(reseller, { password: 'not the password' }));
  t.equal(refused.status, 400, 'a wrong password is refused');
  t.match(await refused.json(), { error: 'invalid_grant' });
  const missing = await fetch(`${publicUrl}/no/such/path/4711`);
  t.equal(missing.status, 404, 'an unknown path is 404');
  await missing.arrayBuffer();
  const live = await fetch(`${adminUrl}/health/live`);
  t.equal(live.status, 200);
  await live.arrayBuffer();

  t.test('the public listener does not serve /metrics', async (t) => {
    const res = await fetch(`${publicUrl}/metrics`);
    t.equal(res.status, 404);
    t.same(await res.json(), { error: 'not_found', message: 'No route for GET /metrics' });
  });

  t.test('the internal listener serves Prometheus text without authentication', async (t) => {
    const res = await fetch(`${adminUrl}/metrics`);
    t.equal(res.status, 200);
    t.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const scrape = parseExposition(await res.text());

    t.test('HTTP requests by listener, route pattern, method and status', async (t) => {
      t.equal(scrape.types.get(REQUESTS), 'counter');
      t.equal(value(t, scrape, REQUESTS, { listener: 'public', route: '/oauth/token', method: 'POST', status: '200' }), 1);
      t.equal(value(t, scrape, REQUESTS, { listener: 'public', route: '/oauth/token', method: 'POST', status: '400' }), 1);
      // The unknown path and the public /metrics request of the subtest above.
      t.equal(value(t, scrape, REQUESTS, { listener: 'public', route: 'unmatched', method: 'GET', status: '404' }), 2);
      t.equal(value(t, scrape, REQUESTS, { listener: 'admin', route: '/health/live', method: 'GET', status: '200' }), 1);
      const routes = new Set(select(scrape, REQUESTS).map((s) => s.labels.route));
      t.notOk(
        [...routes].some((r) => r?.includes('4711') || r === '/metrics'),
        'never the raw URL; the scrape itself is counted only once it has been answered',
      );
    });

    t.test('latency histograms in seconds, with every bucket', async (t) => {
      t.equal(scrape.types.get(DURATION), 'histogram');
      const labels = { listener: 'public', route: '/oauth/token', method: 'POST', status: '200' };
      const buckets = select(scrape, `${DURATION}_bucket`, labels);
      t.same(
        buckets.map((b) => b.labels.le),
        BUCKETS,
      );
      const counts = buckets.map((b) => b.value);
      t.same(
        counts,
        [...counts].sort((a, b) => a - b),
        'cumulative',
      );
      t.equal(counts.at(-1), 1, '+Inf holds the one request');
      t.equal(value(t, scrape, `${DURATION}_count`, labels), 1);
      const sum = value(t, scrape, `${DURATION}_sum`, labels) ?? Number.NaN;
      t.ok(sum > 0 && sum <= tokenSeconds, `the server-side latency (${sum} s) is within what the client measured (${tokenSeconds} s)`);
      t.ok(select(scrape, `${DURATION}_bucket`, { route: '/oauth/token', status: '400' }).length > 0, 'the refused request too');
    });

    t.test('tokens issued by grant, failed logins by reason', async (t) => {
      t.equal(value(t, scrape, 'reseller_auth_tokens_issued_total', { grant: 'password' }), 1);
      t.equal(value(t, scrape, 'reseller_auth_tokens_issued_total', { grant: 'refresh_token' }), 0);
      t.equal(value(t, scrape, 'reseller_auth_failed_logins_total', { reason: 'credentials' }), 1);
      for (const reason of ['client', 'refresh', 'network']) {
        t.equal(value(t, scrape, 'reseller_auth_failed_logins_total', { reason }), 0, `reason ${reason}`);
      }
    });

    t.test('introspections, rate limiting and dependency errors exist from the start, at 0', async (t) => {
      const series = {
        reseller_auth_introspections_total: ['result', INITIAL_SERIES.introspections],
        reseller_auth_rate_limited_total: ['limit', INITIAL_SERIES.rateLimited],
        reseller_auth_dependency_errors_total: ['dependency', INITIAL_SERIES.dependencyErrors],
      } as const;
      t.same(INITIAL_SERIES.introspections, ['active', 'inactive', 'unauthorized', 'unavailable']);
      t.same(INITIAL_SERIES.dependencyErrors, ['database', 'token store']);
      for (const [name, [label, values]] of Object.entries(series)) {
        t.equal(scrape.types.get(name), 'counter', `${name} is a counter`);
        for (const v of values) t.equal(value(t, scrape, name, { [label]: v }), 0, `${name}{${label}="${v}"}`);
      }
    });

    t.test("the process defaults (prom-client's collectDefaultMetrics)", async (t) => {
      for (const name of [
        'process_cpu_user_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
        'nodejs_heap_size_used_bytes',
      ]) {
        t.equal(select(scrape, name).length, 1, name);
      }
      t.ok((select(scrape, 'process_cpu_user_seconds_total')[0]?.value ?? 0) > 0, 'CPU time is measured');
    });
  });

  t.test('the next scrape counts the previous one on the admin listener', async (t) => {
    const scrape = parseExposition(await (await fetch(`${adminUrl}/metrics`)).text());
    t.equal(value(t, scrape, REQUESTS, { listener: 'admin', route: '/metrics', method: 'GET', status: '200' }), 1);
  });
});
