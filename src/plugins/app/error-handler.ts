// The default error and 404 handlers: the admin/ops shape, never Fastify's default body (which
// leaks error.message on 500s). /oauth/* installs its own handler (routes/oauth/index.ts).
import fp from 'fastify-plugin';
import { DependencyUnavailableError, toAppError } from '../../errors.js';

export default fp(
  async (fastify) => {
    fastify.setErrorHandler((error, request, reply) => {
      const problem = toAppError(error);
      if (error instanceof DependencyUnavailableError) {
        // An outage, not a bug: counted and logged like the OAuth routes do, without a stack.
        fastify.services.metrics.dependencyErrors.inc({ dependency: error.dependency });
        request.log.warn({ dependency: error.dependency, cause: (error.cause as Error | undefined)?.message }, 'dependency unavailable');
      } else if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
      return reply.code(problem.status).headers(problem.headers).send(problem.toBody());
    });
    fastify.setNotFoundHandler((request, reply) => {
      // A 404 has no route, so no route hook set the port's security headers (plugins/external/helmet.ts).
      if (fastify.hasDecorator('securityHeaders')) reply.headers(fastify.securityHeaders);
      return reply.code(404).send({ error: 'not_found', message: `No route for ${request.method} ${request.url.split('?')[0]}` });
    });
  },
  { name: 'error-handler' },
);
