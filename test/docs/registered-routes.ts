// Every route a built Fastify instance has registered, read from its router's radix tree
// (printRoutes): routes registered after this test was written are found without changing it.
// Each parsed route is checked against the router itself (hasRoute), so a misread tree fails
// loudly instead of hiding a route.
import type { FastifyInstance, HTTPMethods } from 'fastify';

export interface RegisteredRoute {
  method: string;
  /** Fastify's path, e.g. /admin/resellers/:resellerId/api */
  url: string;
}

// A tree line: the drawing (4 characters per level), the node's segment, its methods if a route ends there.
const LINE = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/u;

export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  const path: string[] = [];
  for (const line of app.printRoutes().split('\n')) {
    if (line.trim() === '') continue;
    const match = LINE.exec(line);
    if (!match) throw new Error(`unexpected printRoutes line: ${JSON.stringify(line)}`);
    const depth = (match[1] ?? '').length / 4;
    const segment = match[2] === '(empty root node)' ? '' : (match[2] ?? '');
    path.length = depth;
    path.push(segment);
    // The root's wildcard child prints as `*`: Fastify registered it as `/*`.
    const joined = path.join('');
    const url = joined.startsWith('/') ? joined : `/${joined}`;
    for (const method of match[3]?.split(', ') ?? []) {
      if (!app.hasRoute({ method: method as HTTPMethods, url })) throw new Error(`printRoutes misread: ${method} ${url} is not a route`);
      routes.push({ method, url });
    }
  }
  return routes;
}

/** Fastify's `:param` as OpenAPI's `{param}`. */
export const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');
