// What both OpenAPI documents share: the type of a base document, the service's name and the API
// version, which are the package's (read once at start-up; package.json sits two levels above
// src/openapi and dist/openapi alike).
import { readFileSync } from 'node:fs';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';

export type OpenApiBase = NonNullable<FastifyDynamicSwaggerOptions['openapi']>;

/**
 * OpenAPI 3.0.3 rather than 3.1: the dialect that every reseller's tooling reads (code
 * generators, Postman, older Swagger UIs), and one zod emits directly (its `openapi-3.0` target).
 */
export const OPENAPI_VERSION = '3.0.3';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

export const API_VERSION: string = pkg.version;

/** The service's name, as the documentation pages show it. */
export const SERVICE_NAME: string = pkg.name;
