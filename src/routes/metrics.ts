// GET /metrics (docs/deployment.md, "Metrics"): Prometheus text exposition of the service's registry. Internal
// listener only, and without authentication: the ServiceMonitor sends none, the Ingress never
// routes the admin port, and the chart's NetworkPolicy limits who reaches it.
import type { FastifyPluginAsync } from 'fastify';

const metricsRoute: FastifyPluginAsync = async (fastify) => {
  const { registry } = fastify.services.metrics;

  // logLevel warn: a scrape every few seconds would otherwise fill the logs.
  fastify.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).header('cache-control', 'no-store').send(body);
  });
};

export default metricsRoute;
