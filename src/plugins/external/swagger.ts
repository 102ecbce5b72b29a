// @fastify/swagger in dynamic mode: one listener's OpenAPI 3 document, generated from the zod
// schemas its routes validate with (fastify-type-provider-zod's transform), so the document cannot
// drift from the code. Registered before the routes: its onRoute hook is what collects them.
import swagger from '@fastify/swagger';
import type { FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { OpenApiBase } from '../../openapi/document-base.js';
import { documentedOperation, oneOperationPerRoute } from '../../openapi/operations.js';

export interface SwaggerOptions {
  document: OpenApiBase;
  /** The body media types this listener parses: what a route with a body accepts unless it says otherwise. */
  consumes: readonly string[];
}

export default fp<SwaggerOptions>(
  async (fastify, opts) => {
    const withConsumes = <S extends FastifySchema>(schema: S): S =>
      schema?.body !== undefined && schema.consumes === undefined ? { ...schema, consumes: opts.consumes } : schema;
    // Routes registered for several methods, by URL: documented once (openapi/operations.ts).
    const methodsByUrl = new Map<string, string[]>();
    await fastify.register(swagger, {
      openapi: opts.document,
      transform: (input) => {
        const methods = ([] as string[]).concat(input.route.method);
        if (methods.length > 1 && !input.schema?.hide) methodsByUrl.set(input.url, methods);
        const schema = documentedOperation(methods[0] ?? '', input.url, input.schema);
        return jsonSchemaTransform({ ...input, schema: withConsumes(schema) });
      },
      // Schemas registered in zod's global registry with an `id` become components/schemas.
      transformObject: (input) => oneOperationPerRoute(jsonSchemaTransformObject(input), methodsByUrl),
    });
  },
  { name: 'swagger' },
);
