// Swagger UI for one listener's OpenAPI document, at `routePrefix` (the UI) and
// `${routePrefix}/json` (the document). Its routes are hidden from the document itself.
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { SERVICE_NAME } from '../../openapi/document-base.js';

export interface SwaggerUiOptions {
  routePrefix: string;
  title: string;
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The top bar's logo: the service's name, in white on Swagger UI's dark bar, where
 * @fastify/swagger-ui would put Fastify's logo. An image because that is what its `logo` option
 * takes (a data: URL, which the public port's CSP allows for images).
 */
export function nameLogo(name: string): string {
  const width = 14 * name.length + 8;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="40" viewBox="0 0 ${width} 40" role="img" aria-label="${xml(name)}">` +
    `<title>${xml(name)}</title>` +
    `<text x="0" y="28" fill="#ffffff" font-family="Arial, Helvetica, sans-serif" font-size="24" font-weight="700">${xml(name)}</text></svg>`
  );
}

/** The page is Swagger UI, blank without JavaScript: say so, and where the document itself is. */
export function noscript(routePrefix: string): string {
  const json = xml(`${routePrefix}/json`);
  const yaml = xml(`${routePrefix}/yaml`);
  return (
    `<noscript><p style="font-family: sans-serif; margin: 2em">This page needs JavaScript to show the API documentation. ` +
    `The OpenAPI document it shows is at <a href="${json}">${json}</a> (YAML: <a href="${yaml}">${yaml}</a>).</p></noscript>`
  );
}

const SWAGGER_UI_ROOT = '<div id="swagger-ui"></div>';

export default fp<SwaggerUiOptions>(
  async (fastify, opts) => {
    const notice = noscript(opts.routePrefix);
    // Encapsulated: the hook below sees the UI's own answers only.
    await fastify.register(async (scope) => {
      // @fastify/swagger-ui writes its HTML page itself and has no option for the page's body.
      scope.addHook('onSend', async (_request, reply, payload) => {
        const type = reply.getHeader('content-type');
        if (typeof payload !== 'string' || typeof type !== 'string' || !type.startsWith('text/html')) return payload;
        return payload.replace(SWAGGER_UI_ROOT, `${notice}\n${SWAGGER_UI_ROOT}`);
      });
      await scope.register(swaggerUi, {
        routePrefix: opts.routePrefix,
        theme: { title: opts.title },
        logo: { type: 'image/svg+xml', content: Buffer.from(nameLogo(SERVICE_NAME)) },
        uiConfig: {
          deepLinking: true,
          displayRequestDuration: true,
          // Credentials typed into the Authorize dialog stay in the tab's memory, never in
          // localStorage where they would outlive the session.
          persistAuthorization: false,
        },
      });
    });
  },
  { name: 'swagger-ui', dependencies: ['swagger'] },
);
