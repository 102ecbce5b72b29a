// The two Fastify applications the service consists of, built over one set of services:
// the public listener (PORT: /oauth/*, the documentation, health) and the internal one
// (ADMIN_PORT: /admin/*, /metrics, /auth/verify, health). Plugins register in a fixed order:
// external plugins → app plugins → routes; the error and 404 handlers come with the app plugins.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { BODY_LIMIT } from './errors.js';
import cors from './plugins/external/cors.js';
import formbody from './plugins/external/formbody.js';
import helmet from './plugins/external/helmet.js';
import errorHandler from './plugins/app/error-handler.js';
import servicesPlugin from './plugins/app/services.js';
import healthRoutes from './routes/health.js';
import oauthRoutes from './routes/oauth/index.js';
import type { Services } from './services.js';

export type Listener = 'public' | 'admin';

function createInstance(services: Services, listener: Listener): FastifyInstance {
  const { config } = services;
  const app = Fastify({
    loggerInstance: services.log.child({ listener }) as FastifyBaseLogger,
    // API.md: the caller's address as resolved under TRUSTED_PROXIES (proxy-addr semantics:
    // the right-most X-Forwarded-For entry that is not a trusted proxy).
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    bodyLimit: BODY_LIMIT,
    // Bounded everything (issue 5): no request or idle connection is held for long.
    connectionTimeout: 30_000,
    requestTimeout: 15_000,
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 200 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  return app;
}

export async function buildPublicApp(services: Services): Promise<FastifyInstance> {
  const app = createInstance(services, 'public');
  // API.md: only JSON and form bodies; anything else is invalid_request.
  app.removeContentTypeParser('text/plain');
  await app.register(helmet);
  await app.register(cors, { origins: services.config.corsOrigins });
  await app.register(formbody);
  await app.register(servicesPlugin, { services });
  await app.register(errorHandler);
  await app.register(healthRoutes);
  await app.register(oauthRoutes);
  return app;
}

export async function buildAdminApp(services: Services): Promise<FastifyInstance> {
  const app = createInstance(services, 'admin');
  await app.register(servicesPlugin, { services });
  await app.register(errorHandler);
  await app.register(healthRoutes);
  return app;
}
