// Prometheus metrics (docs/deployment.md, "Metrics"), one registry per service instance so that tests
// can run several instances in one process. Served on the internal port at /metrics.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { RequestHistogram } from './request-histogram.js';

type IntrospectionResult = (typeof INITIAL_SERIES.introspections)[number];

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'listener' | 'route' | 'method' | 'status'>;
  httpDuration: RequestHistogram<'listener' | 'route' | 'method' | 'status'>;
  tokensIssued: Counter<'grant'>;
  introspections: Counter<'result'>;
  /**
   * The introspection hot path counts here, in plain numbers; they reach `introspections` when it
   * is collected (a scrape). prom-client's `inc` hashes the label set on every call, bound
   * children too: a measured cost at the introspection rate (bench/README.md).
   */
  introspectionResults: Record<IntrospectionResult, number>;
  failedLogins: Counter<'reason'>;
  rateLimited: Counter<'limit'>;
  dependencyErrors: Counter<'dependency'>;
  /** Committed cut-offs whose revocation is not stored yet, as this instance's last retry found them. */
  cutOffsPending: Gauge;
}

/**
 * Label values whose series exist from the first scrape, at 0: a series that appears only with
 * its first event breaks rate() and makes absent() alerts fire on a healthy service. The rate
 * limits are the three LOGIN_MAX_FAILURES_* counters (per user, per client and address, per address).
 */
export const INITIAL_SERIES = {
  tokensIssued: ['password', 'refresh_token'],
  introspections: ['active', 'inactive', 'unauthorized', 'unavailable'],
  failedLogins: ['client', 'credentials', 'refresh', 'network'],
  rateLimited: ['user', 'client_ip', 'ip'],
  dependencyErrors: ['database', 'token store'],
} as const;

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const httpDuration = new RequestHistogram<'listener' | 'route' | 'method' | 'status'>({
    name: 'reseller_auth_http_request_duration_seconds',
    help: 'HTTP request latency by listener, route, method and status',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const introspectionResults = Object.fromEntries(INITIAL_SERIES.introspections.map((result) => [result, 0])) as Record<IntrospectionResult, number>;
  const metrics: Metrics = {
    registry,
    // The histogram's _count already counts every request by the same labels: the counter is
    // read from it at scrape time instead of costing a second label hash per request.
    httpRequests: new Counter({
      name: 'reseller_auth_http_requests_total',
      help: 'HTTP requests by listener, route, method and status',
      labelNames: ['listener', 'route', 'method', 'status'],
      registers,
      async collect() {
        this.reset();
        for (const { metricName, labels, value } of (await httpDuration.get()).values) {
          if (metricName === `${httpDuration.name}_count`) this.inc(labels, value);
        }
      },
    }),
    httpDuration,
    tokensIssued: new Counter({ name: 'reseller_auth_tokens_issued_total', help: 'Token pairs issued, by grant', labelNames: ['grant'], registers }),
    introspections: new Counter({
      name: 'reseller_auth_introspections_total',
      help: 'Introspection answers by result (active, inactive, unauthorized, unavailable)',
      labelNames: ['result'],
      registers,
      collect() {
        for (const result of INITIAL_SERIES.introspections) {
          if (introspectionResults[result] === 0) continue;
          this.inc({ result }, introspectionResults[result]);
          introspectionResults[result] = 0;
        }
      },
    }),
    introspectionResults,
    failedLogins: new Counter({
      name: 'reseller_auth_failed_logins_total',
      help: 'Failed token requests by reason (client, credentials, refresh, network)',
      labelNames: ['reason'],
      registers,
    }),
    rateLimited: new Counter({
      name: 'reseller_auth_rate_limited_total',
      help: 'Requests refused with 429, by the limit that was exceeded',
      labelNames: ['limit'],
      registers,
    }),
    dependencyErrors: new Counter({
      name: 'reseller_auth_dependency_errors_total',
      help: 'Requests answered 503 because a dependency was unreachable (database, token store)',
      labelNames: ['dependency'],
      registers,
    }),
    cutOffsPending: new Gauge({
      name: 'reseller_auth_cut_offs_pending',
      help: "Committed cut-offs whose tokens are not revoked yet (the token store failed), at this instance's last retry",
      registers,
    }),
  };
  for (const [counter, values] of Object.entries(INITIAL_SERIES) as [keyof typeof INITIAL_SERIES, readonly string[]][]) {
    for (const value of values) metrics[counter].labels(value).inc(0);
  }
  return metrics;
}
