// Security headers on the public port (docs/security.md, "Headers"), computed once by helmet and set by one
// synchronous hook on each route.
//
// Why not @fastify/helmet: it adds two global onRequest hooks (one async) that read
// `request.routeOptions` (an object Fastify builds on every access) and run helmet's middleware
// anew on every request, CSP serialisation included — for values that never change, since this
// service uses no CSP nonces. On the introspection hot path that was a measured share of the gap
// to the stack's ceiling (bench/README.md). helmet's middleware is run here once, against a
// recorder, and its output is what every answer carries.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

export type SecurityHeaders = Readonly<Record<string, string>>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route's own security headers instead of helmet's, which the route sets itself (the JSON hot path sends fewer). */
    securityHeaders?: SecurityHeaders;
  }
  interface FastifyInstance {
    /** The headers every public answer carries; answers without a route (404s) set them themselves. */
    securityHeaders: SecurityHeaders;
  }
}

/** The public port's helmet configuration: the Swagger UI needs inline styles and scripts of its own origin only. */
const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
      connectSrc: ["'self'"],
      // Resellers reach the DBS by IP over plain HTTP today (IP_DO_SEU_DBS/api/documentation):
      // upgrading the UI's own script requests to https would break the page there.
      upgradeInsecureRequests: null,
    },
  },
};

/** The headers helmet's middleware sets for `options`, recorded from one run of it. */
function helmetHeaders(options: HelmetOptions): SecurityHeaders {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  // Synchronous with static directives; an error (an invalid option) arrives through `next` or is thrown.
  helmet(options)({} as never, recorder as never, (err?: unknown) => {
    failure = err;
  });
  if (failure) throw failure;
  return Object.freeze(headers);
}

/** A hook that sets `headers` on the reply before anything else runs. */
function setHeadersHook(headers: SecurityHeaders): onRequestHookHandler {
  return (_request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    reply.headers(headers);
    done();
  };
}

export default fp(
  async (fastify) => {
    const headers = helmetHeaders(HELMET_OPTIONS);
    const helmetHook = setHeadersHook(headers);
    fastify.decorate('securityHeaders', headers);
    // Route-level, not global. A route with its own set sends it itself and pays for no hook:
    // the introspection hot path (routes/oauth/introspect.ts; its error handler sets it too).
    fastify.addHook('onRoute', (route) => {
      if (route.config?.securityHeaders) return;
      const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
      route.onRequest = [helmetHook, ...existing];
    });
  },
  { name: 'helmet' },
);
