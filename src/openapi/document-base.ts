// What both OpenAPI documents share: the type of a base document and the API version, which is
// the package's (read once at start-up; package.json sits two levels above src/openapi and
// dist/openapi alike).
import { readFileSync } from 'node:fs';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';

export type OpenApiBase = NonNullable<FastifyDynamicSwaggerOptions['openapi']>;

/**
 * OpenAPI 3.0.3 rather than 3.1: the dialect that every reseller's tooling reads (code
 * generators, Postman, older Swagger UIs), and one zod emits directly (its `openapi-3.0` target).
 */
export const OPENAPI_VERSION = '3.0.3';

export const API_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
