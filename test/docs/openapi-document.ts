// The parts of an OpenAPI 3.0 document the documentation tests read, how they fetch one, and
// how they check an example against the schema it illustrates.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

export interface SchemaObject {
  type?: string;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  oneOf?: SchemaObject[];
  enum?: unknown[];
  additionalProperties?: boolean | SchemaObject;
  description?: string;
}

export interface MediaType {
  schema?: SchemaObject;
  examples?: Record<string, { summary?: string; value: unknown }>;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, { description?: string; schema: { type: string; example?: unknown } }>;
  content?: Record<string, MediaType>;
}

export interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; description?: string }[];
  requestBody?: { required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, ResponseObject>;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  tags?: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, Record<string, unknown>> };
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every operation of the document, with its path and method. */
export function operations(doc: OpenApiDocument): { path: string; method: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]) => ({ path, method, op })),
  );
}

export async function fetchDocument(app: FastifyInstance, url: string): Promise<OpenApiDocument> {
  const res = await app.inject({ method: 'GET', url });
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode}`);
  return res.json() as OpenApiDocument;
}

/**
 * Whether `value` is valid for the document's `schema`, read as OpenAPI 3.0 Schema (zod's
 * fromJSONSchema: `oneOf` is exclusive, `nullable` and `additionalProperties` are honoured).
 */
export function validFor(schema: SchemaObject, value: unknown): boolean {
  return z.fromJSONSchema(schema as z.core.JSONSchema.JSONSchema, { defaultTarget: 'openapi-3.0' }).safeParse(value).success;
}

export interface DocumentedExample {
  where: string;
  schema: SchemaObject | undefined;
  value: unknown;
}

/** Every named example of the document, request bodies and responses, with the schema it illustrates. */
export function documentedExamples(doc: OpenApiDocument): DocumentedExample[] {
  const found: DocumentedExample[] = [];
  for (const { path, method, op } of operations(doc)) {
    const name = `${method.toUpperCase()} ${path}`;
    const media: [string, MediaType][] = [
      ...Object.entries(op.requestBody?.content ?? {}).map(([type, m]): [string, MediaType] => [`request ${type}`, m]),
      ...Object.entries(op.responses).flatMap(([status, r]) =>
        Object.entries(r.content ?? {}).map(([type, m]): [string, MediaType] => [`${status} ${type}`, m]),
      ),
    ];
    for (const [where, m] of media) {
      for (const [example, { value }] of Object.entries(m.examples ?? {}))
        found.push({ where: `${name} ${where} ${example}`, schema: m.schema, value });
    }
  }
  return found;
}
