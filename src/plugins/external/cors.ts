// CORS is closed unless CORS_ORIGINS lists the origins allowed to call the public port from a
// browser, and then it covers only the routes registered beside this plugin (app.ts: token and
// revocation). @fastify/cors answers preflights with a wildcard OPTIONS route, which matches
// every path of the port: a preflight to any other path (introspection, which no browser may
// call, health, documentation) gets no Access-Control-Allow-* header and the port's 404.
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import fp from 'fastify-plugin';

export default fp<{ origins: string[] }>(
  async (fastify, opts) => {
    const open: FastifyCorsOptions = {
      origin: opts.origins.length > 0 ? opts.origins : false,
      methods: ['POST', 'GET'],
      // A bare OPTIONS request (no preflight headers) gets an empty 204 instead of the plugin's
      // text/plain 400, which is not one of the documented error shapes.
      strictPreflight: false,
    };
    const closed: FastifyCorsOptions = { ...open, origin: false };
    // The paths of the routes registered after this plugin in its scope ('*' is the plugin's own).
    const covered = new Set<string>();
    fastify.addHook('onRoute', (route) => {
      if (route.url !== '*') covered.add(route.url);
    });
    await fastify.register(cors, {
      delegator: (request, callback) => callback(null, covered.has(request.url.split('?')[0] ?? '') ? open : closed),
    });
  },
  { name: 'cors' },
);
