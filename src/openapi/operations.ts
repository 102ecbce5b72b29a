// What the document says about a route beyond the schema it validates and serialises with,
// applied by plugins/external/swagger.ts while it builds the document (never to the route itself):
// - a request body shown as its documentation schema (request-bodies.ts, responses.ts documentedAs);
// - the statuses a route declares as a class (`4xx`, `5xx`) replaced by the statuses it really
//   answers, each described with examples (admin-responses.ts);
// - a route registered for several methods documented once.
import type { FastifySchema } from 'fastify';
import { z } from 'zod';
import { ADMIN_OPERATIONS } from './admin-responses.js';
import { documentationOf, documented } from './responses.js';

const STATUS_CLASS = /^[1-5]xx$/i;

/** The schema @fastify/swagger documents for the route `method url`. */
export function documentedOperation(method: string, url: string, schema: FastifySchema): FastifySchema {
  if (!schema) return schema;
  const withBody = schema.body === undefined ? schema : { ...schema, body: documentationOf(schema.body) };
  const response = (schema.response ?? {}) as Record<string, z.ZodType>;
  const described = ADMIN_OPERATIONS[`${method} ${url}`];
  if (!described) {
    const classes = Object.keys(response).filter((status) => STATUS_CLASS.test(status));
    if (classes.length > 0)
      throw new Error(`${method} ${url} declares ${classes.join(', ')}: openapi/admin-responses.ts must say which statuses it answers`);
    return withBody;
  }
  const documentedResponse: Record<string, z.ZodType> = {};
  for (const [status, doc] of Object.entries(described)) {
    const own = response[status] ?? response[`${status[0]}xx`] ?? response[`${status[0]}XX`];
    if (!own) throw new Error(`${method} ${url} declares no schema for ${status} (nor ${status[0]}xx)`);
    // RFC 9110 §15.3.5: a 204 has no content, whatever schema serialises its (empty) answer.
    documentedResponse[status] = documented(status === '204' ? z.undefined() : own, doc);
  }
  return { ...withBody, response: documentedResponse };
}

/**
 * A route registered for several methods (GET /auth/verify takes whatever method nginx's
 * subrequest keeps) is one operation: documented under its first method, its description saying
 * the rest. @fastify/swagger would list it once per method.
 */
export function oneOperationPerRoute<D extends { paths?: Record<string, Record<string, unknown> | undefined> }>(
  document: D,
  methodsByUrl: ReadonlyMap<string, readonly string[]>,
): D {
  for (const [url, [first, ...others]] of methodsByUrl) {
    const item = document.paths?.[url.replace(/:(\w+)/g, '{$1}')];
    if (!item || first === undefined) continue;
    for (const method of others) if (method !== first) delete item[method.toLowerCase()];
  }
  return document;
}
