// Counts every HTTP request and its latency (issue 7), per listener, route, method and status,
// into the service's registry. Registered on both listeners, before the routes.
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Listener } from '../../app.js';

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
    const { httpRequests, httpDuration } = fastify.services.metrics;
    // onResponse runs once the response is handed to the socket, for errors and 404s too.
    fastify.addHook('onResponse', async (request, reply) => {
      const labels = { listener: opts.listener, route: routeLabel(request), method: request.method, status: String(reply.statusCode) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, reply.elapsedTime / 1000);
    });
  },
  { name: 'http-metrics', dependencies: ['services'] },
);
