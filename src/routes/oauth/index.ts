// The public OAuth surface. Every response here, errors included, carries the no-store headers
// (RFC 6749 §5.1) and errors are Passport-shaped (docs/resellers.md, "Errors").
//
// Two plugins: introspection, the resource servers' hot path (docs/scaling.md), runs no hook of its own —
// its handler sets its headers — and sits outside CORS; token and revocation get the no-store
// hook and CORS (app.ts). Each hook is a measurable share of an introspection's cost.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { DependencyUnavailableError, MethodNotAllowedError, toOAuthError } from '../../errors.js';
import { NO_STORE_HEADERS } from '../../oauth/response-headers.js';
import introspectRoute from './introspect.js';
import revokeRoute from './revoke.js';
import tokenRoute from './token.js';

/**
 * Passport-shaped errors with the no-store headers, and the route's own security headers when it
 * sets them itself (introspection: no hook ran before an error in body parsing or the handler).
 */
function setOAuthErrorHandler(fastify: FastifyInstance): void {
  fastify.setErrorHandler((error, request, reply) => {
    const problem = toOAuthError(error);
    if (problem.status === 500) request.log.error({ err: error }, 'token endpoint failed');
    else if (problem.status === 503 && error instanceof DependencyUnavailableError) {
      fastify.services.metrics.dependencyErrors.inc({ dependency: error.dependency });
      request.log.warn({ dependency: error.dependency, cause: (error.cause as Error | undefined)?.message }, 'dependency unavailable');
    }
    const own = request.routeOptions.config.securityHeaders;
    if (own) reply.headers(own);
    return reply.code(problem.status).headers(NO_STORE_HEADERS).headers(problem.headers).send(problem.toBody());
  });
}

/**
 * The other methods on a POST-only endpoint: 405 with `Allow: POST` (RFC 9110 §15.5.6) in the
 * OAuth shape, not the port's 404 — the path exists. HEAD comes with GET. OPTIONS is left to the
 * CORS preflight route (plugins/external/cors.ts). Answered before the body is read: whatever it
 * holds, the method is what is wrong. Hidden from the OpenAPI document.
 */
const WRONG_METHODS = ['GET', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'QUERY'];

function refuseOtherMethods(fastify: FastifyInstance, url: string): void {
  fastify.route({
    method: WRONG_METHODS,
    url,
    schema: { hide: true },
    // Refused in onRequest, before Fastify reads a body (the method is wrong whatever it holds).
    onRequest: async (request) => {
      throw new MethodNotAllowedError(request.method);
    },
    // Not reached while onRequest throws; Fastify requires a handler, and this one refuses the same way.
    handler: async (request) => {
      throw new MethodNotAllowedError(request.method);
    },
  });
}

/** POST /oauth/introspect. */
export const introspectionRoutes: FastifyPluginAsync = async (fastify) => {
  setOAuthErrorHandler(fastify);
  await fastify.register(introspectRoute);
  refuseOtherMethods(fastify, '/oauth/introspect');
};

/** POST /oauth/token and /oauth/revoke. */
export const tokenRoutes: FastifyPluginAsync = async (fastify) => {
  // Set before anything runs: Fastify keeps a reply's headers when it answers an error instead.
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(NO_STORE_HEADERS);
    done();
  });
  setOAuthErrorHandler(fastify);
  await fastify.register(tokenRoute);
  await fastify.register(revokeRoute);
  refuseOtherMethods(fastify, '/oauth/token');
  refuseOtherMethods(fastify, '/oauth/revoke');
};
