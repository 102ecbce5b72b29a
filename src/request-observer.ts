// Counts every HTTP request and its latency (issue 7), per listener, route, method and status.
// Fastify calls its log controller when each response has finished (or failed), for errors and
// 404s too, once a logger is configured (docs/Reference/Server.md, "logController"): the request
// line is written there, and the latency is recorded in the same call. An onResponse hook would
// add a hook runner per request on top of it (seen in CPU profiles of the introspection hot path;
// the gain is below what bench/introspect can resolve on the development machine).
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Listener } from './app.js';
import type { HistogramSeries, RequestHistogram } from './request-histogram.js';

/** The label for requests no route matched (404s of the not-found handler). */
const UNMATCHED_ROUTE = 'unmatched';

type Labels = 'listener' | 'route' | 'method' | 'status';

/**
 * The route pattern (`/admin/resellers/:resellerId/api`), never the raw URL: one series per
 * route, however many ids or probing paths callers send. Methods need no such care: Node's HTTP
 * parser only accepts its fixed list of methods.
 */
function routeLabel(request: FastifyRequest): string {
  return request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
}

export class RequestObserver extends LogController {
  readonly #histogram: RequestHistogram<Labels>;
  readonly #listener: Listener;
  // The series by route, method and status, so no label object is built per request. The map
  // is bounded by the routes × methods × statuses that occur.
  readonly #series = new Map<string, HistogramSeries>();

  constructor(histogram: RequestHistogram<Labels>, listener: Listener) {
    super();
    this.#histogram = histogram;
    this.#listener = listener;
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const route = routeLabel(request);
    const key = `${route} ${request.method} ${reply.statusCode}`;
    let series = this.#series.get(key);
    if (!series) {
      series = this.#histogram.series({ listener: this.#listener, route, method: request.method, status: String(reply.statusCode) });
      this.#series.set(key, series);
    }
    series.observe(reply.elapsedTime / 1000);
    super.requestCompleted(error, request, reply);
  }
}
