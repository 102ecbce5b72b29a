// CORS is closed unless CORS_ORIGINS lists the origins allowed to call the public port from a
// browser (issue 5).
import cors from '@fastify/cors';
import fp from 'fastify-plugin';

export default fp<{ origins: string[] }>(
  async (fastify, opts) => {
    await fastify.register(cors, { origin: opts.origins.length > 0 ? opts.origins : false, methods: ['POST', 'GET'] });
  },
  { name: 'cors' },
);
