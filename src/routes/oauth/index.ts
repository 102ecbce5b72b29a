// The public OAuth surface. Every response here, errors included, carries the no-store headers
// (RFC 6749 §5.1) and errors are Passport-shaped (API.md).
import type { FastifyPluginAsync } from 'fastify';
import { DependencyUnavailableError, toOAuthError } from '../../errors.js';
import introspectRoute from './introspect.js';
import revokeRoute from './revoke.js';
import tokenRoute from './token.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

const oauthRoutes: FastifyPluginAsync = async (fastify) => {
  // Set before anything runs: Fastify keeps a reply's headers when an error is answered instead.
  // Synchronous: no promise per request on the introspection hot path (issue 4).
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(NO_STORE);
    done();
  });
  fastify.setErrorHandler((error, request, reply) => {
    const problem = toOAuthError(error);
    if (problem.status === 500) request.log.error({ err: error }, 'token endpoint failed');
    else if (problem.status === 503 && error instanceof DependencyUnavailableError) {
      fastify.services.metrics.dependencyErrors.inc({ dependency: error.dependency });
      request.log.warn({ dependency: error.dependency, cause: (error.cause as Error | undefined)?.message }, 'dependency unavailable');
    }
    return reply.code(problem.status).headers(problem.headers).send(problem.toBody());
  });
  await fastify.register(tokenRoute);
  await fastify.register(revokeRoute);
  await fastify.register(introspectRoute);
};

export default oauthRoutes;
