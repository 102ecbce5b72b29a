// Liveness and readiness (docs/deployment.md, "Health"), on both listeners. Readiness names what is down.
// Liveness asks nothing of the dependencies: a restart does not fix a database outage, and
// restarting every pod at once during one makes it worse. Readiness asks what serving needs:
// the database answers a query, and Redis takes writes (writable-master.ts); it fails first
// when the instance drains (drain.ts), while requests are still served.
import type { FastifyPluginAsync } from 'fastify';
import { isDraining } from '../drain.js';
import { type RedisReadiness, writableMaster } from '../token-store/writable-master.js';

const healthRoutes: FastifyPluginAsync = async (fastify) => {
  const { services } = fastify;
  const { db, tokenStore, redis, durableRedis } = services;
  // With Redis, the writable-master check on each of the store's connections: reads and grants go
  // on one, revocations and their WAIT on the other where replicas must acknowledge (docs/redis.md;
  // one connection otherwise), and serving needs both. The in-process store cannot fail but keeps its ping.
  const clients = [...new Set([redis, durableRedis])].filter((client) => client !== undefined);
  const tokenStoreReadiness =
    clients.length > 0
      ? async (): Promise<RedisReadiness> => {
          const answers = await Promise.all(clients.map(writableMaster));
          return answers.find((answer) => answer !== 'ok') ?? 'ok';
        }
      : () => tokenStore.ping().then((): RedisReadiness => 'ok');

  fastify.get('/health/live', { schema: { hide: true }, logLevel: 'warn' }, async () => ({ status: 'ok' }));

  fastify.get('/health/ready', { schema: { hide: true }, logLevel: 'warn' }, async (_request, reply) => {
    if (isDraining(services)) return reply.code(503).send({ status: 'draining' });
    const [database, store] = await Promise.allSettled([withTimeout(db.ping()), withTimeout(tokenStoreReadiness())]);
    const checks = {
      database: database.status === 'fulfilled' ? 'ok' : 'unavailable',
      tokenStore: store.status === 'fulfilled' ? store.value : 'unavailable',
    };
    const ready = checks.database === 'ok' && checks.tokenStore === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });
};

function withTimeout<T>(check: Promise<T>, ms = 2000): Promise<T> {
  return Promise.race([check, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}

export default healthRoutes;
