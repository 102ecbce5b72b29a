// The internal admin API under /admin (API.md "Admin API"), on the ADMIN_PORT listener only.
// Every route here needs an admin bearer token; validation errors name every bad field.
import type { FastifyPluginAsync } from 'fastify';
import { createAdmin } from '../../admin/index.js';
import adminAuth from '../../plugins/app/admin-auth.js';
import resellerRoutes from './resellers.js';
import resourceServerRoutes from './resource-servers.js';
import { toValidationFailed } from './validation-errors.js';

const adminRoutes: FastifyPluginAsync = async (fastify) => {
  const admin = createAdmin(fastify.services);
  await fastify.register(
    async (scope) => {
      await scope.register(adminAuth);
      // Rethrown errors reach the app's error handler, which answers {"error","message","fields"}.
      scope.setErrorHandler((error, request) => {
        throw toValidationFailed(error, request) ?? error;
      });
      await scope.register(resellerRoutes, { admin });
      await scope.register(resourceServerRoutes, { admin });
    },
    { prefix: '/admin' },
  );
};

export default adminRoutes;
