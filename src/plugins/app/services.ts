// Makes the shared services (storage, token store, repositories) available to routes.
import fp from 'fastify-plugin';
import type { Services } from '../../services.js';

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}

export default fp<{ services: Services }>(
  async (fastify, opts) => {
    fastify.decorate('services', opts.services);
  },
  { name: 'services' },
);
