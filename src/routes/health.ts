// Liveness and readiness (API.md "Ops"), on both listeners. Readiness names what is down.
import type { FastifyPluginAsync } from 'fastify';

const healthRoutes: FastifyPluginAsync = async (fastify) => {
  const { db, tokenStore } = fastify.services;

  fastify.get('/health/live', { schema: { hide: true }, logLevel: 'warn' }, async () => ({ status: 'ok' }));

  fastify.get('/health/ready', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
    const [database, store] = await Promise.allSettled([withTimeout(db.ping()), withTimeout(tokenStore.ping())]);
    const checks = {
      database: database.status === 'fulfilled' ? 'ok' : 'unavailable',
      tokenStore: store.status === 'fulfilled' ? 'ok' : 'unavailable',
    };
    const ready = checks.database === 'ok' && checks.tokenStore === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });
};

function withTimeout(check: Promise<void>, ms = 2000): Promise<void> {
  return Promise.race([check, new Promise<void>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}

export default healthRoutes;
