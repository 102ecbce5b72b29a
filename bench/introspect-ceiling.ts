// The ceiling of bench/introspect: what this stack (Node, Fastify, ioredis with the service's own
// client settings, one Redis) can do at best for an introspection-shaped request — a bare Fastify
// route that accepts the same form body, checks a Basic header, does one Redis GET of a ~300-byte
// record and returns it. No logging, no validation, no error handling: nothing to remove.
//   node --import tsx bench/introspect-ceiling.ts   (env: REDIS_URL, CEILING_KEY, CEILING_AUTHORIZATION)
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import { createRedisClient, waitUntilReady } from '../src/redis/connection.js';

const { REDIS_URL, CEILING_KEY, CEILING_AUTHORIZATION } = process.env;
if (!REDIS_URL || !CEILING_KEY || !CEILING_AUTHORIZATION) throw new Error('REDIS_URL, CEILING_KEY and CEILING_AUTHORIZATION are required');

const redis = createRedisClient(REDIS_URL);
if (!(await waitUntilReady(redis, 5000))) throw new Error('Redis is not reachable');

const app = Fastify();
await app.register(formbody);
app.post('/oauth/introspect', async (request, reply) => {
  if (request.headers.authorization !== CEILING_AUTHORIZATION) return reply.code(401).send();
  const record = await redis.get(CEILING_KEY);
  return reply.type('application/json; charset=utf-8').send(record);
});

const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ msg: 'listening', url: address })}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => redis.disconnect());
});
