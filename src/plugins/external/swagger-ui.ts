// Swagger UI for one listener's OpenAPI document, at `routePrefix` (the UI) and
// `${routePrefix}/json` (the document). Its routes are hidden from the document itself.
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';

export interface SwaggerUiOptions {
  routePrefix: string;
  title: string;
}

export default fp<SwaggerUiOptions>(
  async (fastify, opts) => {
    await fastify.register(swaggerUi, {
      routePrefix: opts.routePrefix,
      theme: { title: opts.title },
      uiConfig: {
        deepLinking: true,
        displayRequestDuration: true,
        // Client secrets and passwords typed into the Authorize dialog stay in the tab's memory,
        // never in localStorage where they would outlive the session.
        persistAuthorization: false,
      },
    });
  },
  { name: 'swagger-ui', dependencies: ['swagger'] },
);
