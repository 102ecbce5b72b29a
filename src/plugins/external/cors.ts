// CORS is closed unless CORS_ORIGINS lists the origins allowed to call the public port from a
// browser (issue 5).
import cors from '@fastify/cors';
import fp from 'fastify-plugin';

export default fp<{ origins: string[] }>(
  async (fastify, opts) => {
    await fastify.register(cors, {
      origin: opts.origins.length > 0 ? opts.origins : false,
      methods: ['POST', 'GET'],
      // A bare OPTIONS request (no preflight headers) gets an empty 204 instead of the plugin's
      // text/plain 400, which is not one of the documented error shapes.
      strictPreflight: false,
    });
  },
  { name: 'cors' },
);
