// The HTTP latency histogram (src/request-histogram.ts) must be indistinguishable on /metrics
// from prom-client's own Histogram: the same observations, side by side in two registries,
// give the same Prometheus text — bucket edges, +Inf, _sum, _count, several series, a reset.
import { Histogram, Registry } from 'prom-client';
import t from 'tap';
import { RequestHistogram } from '../src/request-histogram.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const LABELS = ['listener', 'route', 'method', 'status'] as const;
type Label = (typeof LABELS)[number];

function pair() {
  const ours = new Registry();
  const theirs = new Registry();
  const histogram = new RequestHistogram<Label>({ name: 'h_seconds', help: 'latency', buckets: BUCKETS, registers: [ours] });
  const reference = new Histogram({ name: 'h_seconds', help: 'latency', labelNames: LABELS, buckets: BUCKETS, registers: [theirs] });
  const observe = (labels: Record<Label, string>, seconds: number) => {
    histogram.series(labels).observe(seconds);
    reference.observe(labels, seconds);
  };
  return { ours, theirs, histogram, reference, observe };
}

const introspect = { listener: 'public', route: '/oauth/introspect', method: 'POST', status: '200' };
const unauthorized = { ...introspect, status: '401' };

t.test('the same observations print the same exposition as prom-client', async (t) => {
  const { ours, theirs, observe } = pair();
  t.equal(await ours.metrics(), await theirs.metrics(), 'no series yet');
  // On a bucket's edge (le is inclusive), between edges, below the first, above the last.
  for (const seconds of [0, 0.0004, 0.001, 0.0011, 0.0025, 0.04, 0.1, 0.7, 1, 2.5, 2.6, 30]) observe(introspect, seconds);
  observe(unauthorized, 0.003);
  observe(unauthorized, 0.003);
  const text = await ours.metrics();
  t.equal(text, await theirs.metrics());
  t.match(text, 'h_seconds_bucket{le="0.001",listener="public",route="/oauth/introspect",method="POST",status="200"} 3');
  t.match(text, 'h_seconds_bucket{le="+Inf",listener="public",route="/oauth/introspect",method="POST",status="401"} 2');
  t.match(text, 'h_seconds_count{listener="public",route="/oauth/introspect",method="POST",status="200"} 12');
});

t.test('a series kept by its caller keeps counting after a registry reset', async (t) => {
  const { ours, theirs, histogram, reference, observe } = pair();
  const series = histogram.series(introspect);
  observe(introspect, 0.002);
  series.observe(0.002);
  reference.observe(introspect, 0.002);
  ours.resetMetrics();
  theirs.resetMetrics();
  series.observe(0.02);
  reference.observe(introspect, 0.02);
  t.equal(await ours.metrics(), await theirs.metrics());
  t.match(await ours.metrics(), 'h_seconds_count{listener="public",route="/oauth/introspect",method="POST",status="200"} 1');
});

t.test('a series is one per label set, however its labels are handed over', async (t) => {
  const { histogram } = pair();
  t.equal(histogram.series(introspect), histogram.series({ ...introspect }));
  t.not(histogram.series(introspect), histogram.series(unauthorized));
});
