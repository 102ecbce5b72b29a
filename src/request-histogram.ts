// The HTTP latency histogram (docs/deployment.md, "Metrics"), built for the introspection rate (docs/scaling.md). prom-client's
// Histogram#observe validates and hashes the label set on every call, bound children included:
// about 1.4 µs per request measured on the development machine, a share of the introspection
// route's own cost that mattered next to the stack's ceiling (bench/README.md). Here a series is
// looked up once and an observation is one bucket increment; prom-client still owns the registry
// and the exposition format: this class is a metric in its registry, read at scrape time.
import type { MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';

export interface HistogramSeries {
  observe(seconds: number): void;
}

interface SeriesState<L extends string> extends HistogramSeries {
  labels: Record<L, string>;
  /** Observations per bucket, not cumulative; the last slot is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

export interface RequestHistogramOptions {
  name: string;
  help: string;
  /** Upper bounds in seconds, ascending (Prometheus `le`). */
  buckets: readonly number[];
  registers: Registry[];
}

export class RequestHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #buckets: readonly number[];
  readonly #series = new Map<string, SeriesState<L>>();

  constructor(options: RequestHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.#buckets = [...options.buckets];
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  /** The series of one label set, created at its first use; callers keep it and observe on it. */
  series(labels: Record<L, string>): HistogramSeries {
    const key = JSON.stringify(labels);
    let state = this.#series.get(key);
    if (state === undefined) {
      const buckets = this.#buckets;
      const created: SeriesState<L> = {
        labels: { ...labels },
        counts: new Array<number>(buckets.length + 1).fill(0),
        sum: 0,
        count: 0,
        observe(seconds) {
          let i = 0;
          while (i < buckets.length && seconds > (buckets[i] as number)) i++;
          created.counts[i] = (created.counts[i] as number) + 1;
          created.sum += seconds;
          created.count++;
        },
      };
      state = created;
      this.#series.set(key, state);
    }
    return state;
  }

  /** What prom-client's Histogram#get answers for the same observations: cumulative buckets, +Inf, _sum, _count. */
  async get(): Promise<Omit<MetricObjectWithValues<MetricValueWithName<L | 'le'>>, 'collect'>> {
    const values: MetricValueWithName<L | 'le'>[] = [];
    for (const { labels: own, counts, sum, count } of this.#series.values()) {
      const labels = own as Partial<Record<L | 'le', string>>;
      let cumulative = 0;
      this.#buckets.forEach((le, i) => {
        cumulative += counts[i] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, ...labels }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...labels }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: count });
    }
    return { name: this.name, help: this.help, type: this.type as never, aggregator: this.aggregator, values };
  }

  /** Zeroes every series in place: callers keep their series (registry.resetMetrics()). */
  reset(): void {
    for (const state of this.#series.values()) {
      state.counts.fill(0);
      state.sum = 0;
      state.count = 0;
    }
  }
}
