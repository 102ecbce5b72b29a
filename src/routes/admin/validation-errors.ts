// Fastify validates a request's parts one after the other (params, body, querystring) and stops
// at the first that fails. docs/input-validation.md promises a 400 naming EVERY bad field, so on a validation error
// every part the route has a zod schema for is checked again and all their issues are named.
import type { FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { fieldNames, fieldsFromIssues, parseForPeople } from '../../admin/validation.js';
import { ValidationFailedError } from '../../errors.js';

type Part = 'params' | 'querystring' | 'body';

function partValue(request: FastifyRequest, part: Part): unknown {
  if (part === 'params') return request.params;
  if (part === 'querystring') return request.query;
  // No body at all: name the required fields rather than "the body is missing".
  return request.body ?? {};
}

/** A ValidationFailedError for a Fastify/zod validation error; null for any other error. */
export function toValidationFailed(error: unknown, request: FastifyRequest): ValidationFailedError | null {
  if (!hasZodFastifySchemaValidationErrors(error)) return null;
  const schema = request.routeOptions.schema ?? {};
  const fields: Record<string, string> = {};
  // Parts validated before the failing one already hold their parsed values: the schemas'
  // transforms (trim, lower-case, CIDR normalisation) are idempotent, so they pass again.
  for (const part of ['params', 'querystring', 'body'] as const) {
    const partSchema = schema[part];
    if (!(partSchema instanceof z.ZodType)) continue;
    const result = partSchema.safeParse(partValue(request, part), parseForPeople);
    if (!result.success) fieldsFromIssues(result.error.issues, part, fields, fieldNames(partSchema));
  }
  if (Object.keys(fields).length === 0) {
    // Cannot happen with zod schemas; kept so that the error is never answered without fields.
    for (const issue of error.validation) fields[issue.instancePath.split('/')[1] || error.validationContext || 'request'] ??= issue.message;
  }
  return new ValidationFailedError(fields);
}
