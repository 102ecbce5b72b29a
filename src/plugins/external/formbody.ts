// application/x-www-form-urlencoded bodies (RFC 6749 §4.3.2). A parameter given twice parses
// to an array, which oauth/token-request.ts rejects as RFC 6749 §3.1 requires.
import formbody from '@fastify/formbody';
import fp from 'fastify-plugin';

export default fp(
  async (fastify) => {
    await fastify.register(formbody);
  },
  { name: 'formbody' },
);
