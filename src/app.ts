// The two Fastify applications the service consists of, built over one set of services:
// the public listener (PORT: /oauth/*, the documentation, health) and the internal one
// (ADMIN_PORT: /admin/*, /metrics, /auth/verify, health). Plugins register in a fixed order:
// the error and 404 handlers first (a route keeps the error handler in force when it registers, so
// the routes of external plugins — CORS preflight, Swagger UI — need them too), then external
// plugins → app plugins → routes.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { BODY_LIMIT, toAppError, toOAuthError } from './errors.js';
import { NO_STORE_HEADERS } from './oauth/response-headers.js';
import cors from './plugins/external/cors.js';
import formbody from './plugins/external/formbody.js';
import helmet from './plugins/external/helmet.js';
import swagger from './plugins/external/swagger.js';
import swaggerUi from './plugins/external/swagger-ui.js';
import errorHandler from './plugins/app/error-handler.js';
import cutOffRetry from './plugins/app/cut-off-retry.js';
import servicesPlugin from './plugins/app/services.js';
import adminRoutes from './routes/admin/index.js';
import authVerifyRoute from './routes/auth-verify.js';
import healthRoutes from './routes/health.js';
import metricsRoute from './routes/metrics.js';
import { introspectionRoutes, tokenRoutes } from './routes/oauth/index.js';
import { ADMIN_DOCS_PATH, adminDocument } from './openapi/admin-document.js';
import { publicDocument } from './openapi/public-document.js';
import { RequestObserver, recordAnswerError, requestId, stampRequestId } from './request-observer.js';
import type { Services } from './services.js';

export type Listener = 'public' | 'admin';

function createInstance(services: Services, listener: Listener): FastifyInstance {
  const { config } = services;
  const log = services.log.child({ listener });
  const observer = new RequestObserver(services.metrics.httpDuration, listener, log);
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Writes one line per request and records its latency (request-observer.ts).
    logController: observer,
    // The caller's X-Request-Id when well-formed, else a UUID: the log line's reqId and the
    // response's X-Request-Id, so that a support ticket finds its line. Not requestIdHeader:
    // Fastify would take any value over.
    genReqId: requestId,
    // The caller's address as resolved under TRUSTED_PROXIES (docs/admin-api.md; proxy-addr semantics:
    // the right-most X-Forwarded-For entry that is not a trusted proxy).
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    bodyLimit: BODY_LIMIT,
    // Bounded everything (docs/security.md): no request or idle connection is held for long. No socket
    // idle timeout (connectionTimeout): it re-arms a timer on every read and write, a measured
    // cost on the introspection path, and requestTimeout, headersTimeout and keepAliveTimeout
    // already bound a request's receipt and an idle keep-alive connection.
    requestTimeout: 15_000,
    keepAliveTimeout: 65_000,
    // Slowloris: Node derives headersTimeout from requestTimeout only when the server is created
    // (before Fastify sets it), so it would be 60 s; and both are enforced only as often as
    // connectionsCheckingInterval (30 s by default). A caller gets 10 s to send its headers, cut
    // off within a second of that.
    http: { headersTimeout: 10_000, connectionsCheckingInterval: 1_000 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 200 },
    // Errors Fastify raises before any route is found (a URL that is not valid percent-encoding)
    // never reach the error handlers: they are answered in the documented shapes here.
    frameworkErrors: (error, request, reply: FastifyReply) => {
      const oauth = request.url.startsWith('/oauth/');
      const problem = oauth ? toOAuthError(error) : toAppError(error);
      recordAnswerError(request, error);
      // Fastify reports no completion for these requests: their line is written here.
      reply.raw.once('finish', () => observer.requestCompleted(null, request, reply));
      if (app.hasDecorator('securityHeaders')) reply.headers(app.securityHeaders);
      if (oauth) reply.headers(NO_STORE_HEADERS);
      return reply.code(problem.status).headers(problem.headers).send(problem.toBody());
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // Before Fastify's own listener: every answer carries the id, even one Fastify sends by itself.
  app.server.prependListener('request', stampRequestId);
  // The error a request is answered with, for its log line (every error handler runs after this hook).
  app.addHook('onError', (request, _reply, error, done) => {
    recordAnswerError(request, error);
    done();
  });
  app.decorateRequest('clientId', null);
  return app;
}

export async function buildPublicApp(services: Services): Promise<FastifyInstance> {
  const app = createInstance(services, 'public');
  await app.register(errorHandler);
  // Only JSON and form bodies; anything else is invalid_request (docs/resellers.md, "Request").
  app.removeContentTypeParser('text/plain');
  await app.register(helmet);
  await app.register(formbody);
  // Before every route: the document is generated from the routes registered after it.
  await app.register(swagger, {
    document: publicDocument(services.config.scopes),
    consumes: ['application/json', 'application/x-www-form-urlencoded'],
  });
  await app.register(swaggerUi, { routePrefix: services.config.docsPath, title: 'reseller-auth API documentation' });
  await app.register(servicesPlugin, { services });
  await app.register(healthRoutes);
  // The introspection hot path outside CORS (a browser never holds a resource server's secret):
  // @fastify/cors's hook would run on every request of every route it covers.
  await app.register(introspectionRoutes);
  await app.register(async (browserCallable) => {
    await browserCallable.register(cors, { origins: services.config.corsOrigins });
    await browserCallable.register(tokenRoutes);
  });
  return app;
}

export async function buildAdminApp(services: Services): Promise<FastifyInstance> {
  const app = createInstance(services, 'admin');
  await app.register(errorHandler);
  await app.register(swagger, { document: adminDocument(), consumes: ['application/json'] });
  await app.register(swaggerUi, { routePrefix: ADMIN_DOCS_PATH, title: 'reseller-auth admin API documentation' });
  await app.register(servicesPlugin, { services });
  await app.register(cutOffRetry);
  await app.register(healthRoutes);
  await app.register(metricsRoute);
  await app.register(adminRoutes);
  await app.register(authVerifyRoute);
  return app;
}
