// The internal admin API under /admin (docs/admin-api.md), on the ADMIN_PORT listener only.
// Every route here needs an admin bearer token; validation errors name every bad field.
import type { FastifyPluginAsync } from 'fastify';
import { createAdmin } from '../../admin/index.js';
import { NO_STORE_HEADERS } from '../../oauth/response-headers.js';
import adminAuth from '../../plugins/app/admin-auth.js';
import resellerRoutes from './resellers.js';
import resourceServerRoutes from './resource-servers.js';
import { toValidationFailed } from './validation-errors.js';

const adminRoutes: FastifyPluginAsync = async (fastify) => {
  const admin = createAdmin(fastify.services);
  await fastify.register(
    async (scope) => {
      // Every admin answer holds credentials (clientSecret) or personal data: no cache may keep
      // it (RFC 9111 §5.2.2.5; RFC 6749 §5.1 asks the same of token responses). Set first, so
      // that errors, a 401 included, carry it too.
      scope.addHook('onRequest', (_request, reply, done) => {
        reply.headers(NO_STORE_HEADERS);
        done();
      });
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
