// What the OpenAPI document says about a response besides the shape of its body: a description,
// the response headers and named examples. They ride on a .meta() clone of the very zod schema
// that serialises the response (the clone validates exactly as the original does), and
// @fastify/swagger reads `description`, `headers` and `x-examples` from the generated JSON Schema.
import type { z } from 'zod';

export interface HeaderDoc {
  description: string;
  type: 'string' | 'integer';
  example?: string | number;
}

export interface ExampleDoc {
  summary: string;
  value: unknown;
}

export interface ResponseDoc {
  description: string;
  headers?: Record<string, HeaderDoc>;
  examples?: Record<string, ExampleDoc>;
}

/** RFC 6749 §5.1 and docs/resellers.md: every /oauth/* response, errors included, must not be cached. */
export const NO_STORE_HEADERS: Record<string, HeaderDoc> = {
  'Cache-Control': { description: 'Always `no-store` (RFC 6749 §5.1).', type: 'string', example: 'no-store' },
  Pragma: { description: 'Always `no-cache` (RFC 6749 §5.1).', type: 'string', example: 'no-cache' },
};

/** `schema`, documented: same validation, plus what the document needs. */
export function documented<T extends z.ZodType>(schema: T, doc: ResponseDoc): T {
  return schema.meta({
    description: doc.description,
    ...(doc.headers ? { headers: doc.headers } : {}),
    ...(doc.examples ? { 'x-examples': doc.examples } : {}),
  });
}

/** A request body with named examples (Swagger UI offers them in "Try it out"). */
export function withExamples<T extends z.ZodType>(schema: T, examples: Record<string, ExampleDoc>): T {
  return schema.meta({ 'x-examples': examples });
}

/** The documentation-only schema of each request body that has one (documentedAs). */
const bodyDocumentation = new WeakMap<object, z.ZodType>();

/**
 * `validating`, to validate the request as before, shown in the document as `documentation`:
 * for a body whose validation is deliberately looser than what a client should send
 * (request-bodies.ts). plugins/external/swagger.ts swaps the two when it builds the document.
 */
export function documentedAs<T extends z.ZodType>(validating: T, documentation: z.ZodType): T {
  const own = validating.clone() as T;
  bodyDocumentation.set(own, documentation);
  return own;
}

/** What the document shows for a route's body schema: its documentation when it has one. */
export const documentationOf = (body: unknown): unknown => (typeof body === 'object' && body !== null && bodyDocumentation.get(body)) || body;
