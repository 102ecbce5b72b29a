// Counts every HTTP request and its latency (issue 7), per listener, route, method and status,
// into the service's registry. Registered on both listeners, before the routes.
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Listener } from '../../app.js';
import type { HistogramSeries } from '../../request-histogram.js';

/** The label for requests no route matched (404s of the not-found handler). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The route pattern (`/admin/resellers/:resellerId/api`), never the raw URL: one series per
 * route, however many ids or probing paths callers send. Methods need no such care: Node's HTTP
 * parser only accepts its fixed list of methods.
 */
function routeLabel(request: FastifyRequest): string {
  return request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
}

export default fp<{ listener: Listener }>(
  async (fastify, opts) => {
    // The request counter is read from this histogram's _count at scrape time (metrics.ts).
    const { httpDuration } = fastify.services.metrics;
    // The series by route, method and status, so no label object is built per request. The map
    // is bounded by the routes × methods × statuses that occur.
    const series = new Map<string, HistogramSeries>();
    // onResponse runs once the response is handed to the socket, for errors and 404s too; a
    // callback hook, not an async one, so no promise per request.
    fastify.addHook('onResponse', (request, reply, done) => {
      const route = routeLabel(request);
      const key = `${route} ${request.method} ${reply.statusCode}`;
      let child = series.get(key);
      if (!child) {
        const labels = { listener: opts.listener, route, method: request.method, status: String(reply.statusCode) };
        child = httpDuration.series(labels);
        series.set(key, child);
      }
      child.observe(reply.elapsedTime / 1000);
      done();
    });
  },
  { name: 'http-metrics', dependencies: ['services'] },
);
