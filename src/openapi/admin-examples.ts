// The admin document's example bodies. Errors are made by the code that answers them: the error
// catalogue (errors.ts) and, for validation failures, the routes' own zod schemas run on a bad
// input and turned into `fields` as the API and the CLI do (admin/validation.ts). So an example
// cannot say something the service does not.
import type { z } from 'zod';
import { PASSWORD_REQUIRED } from '../admin/reseller-access.js';
import { validate } from '../admin/validation.js';
import { ConflictError, NotFoundError, ServiceUnavailableError, UnauthorizedError, ValidationFailedError, toAppError } from '../errors.js';
import { EXAMPLE_CLIENT } from './request-bodies.js';

export type AppErrorBody = ReturnType<ValidationFailedError['toBody']>;

/** The 400 a route answers when `schema` refuses `input` in the request part `part`. */
export function rejected(part: 'params' | 'querystring' | 'body', schema: z.ZodType, input: unknown): AppErrorBody {
  try {
    validate(schema, input, part);
  } catch (err) {
    if (err instanceof ValidationFailedError) return err.toBody();
    throw err;
  }
  throw new Error(`the ${part} example ${JSON.stringify(input)} is valid: it cannot illustrate a 400`);
}

/** Fastify's own errors, as the admin error handler turns them into bodies (errors.ts toAppError). */
export const unparsableBody = toAppError({ code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 }).toBody();
export const unsupportedMediaType = toAppError({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 });
export const payloadTooLarge = toAppError({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
export const unexpected = toAppError(new Error('an unexpected failure'));
export const unauthorized = new UnauthorizedError();
export const databaseUnavailable = new ServiceUnavailableError('database');
export const tokenStoreUnavailable = new ServiceUnavailableError('token store');
// The messages of admin/reseller-access.ts and admin/resource-servers.ts (test/docs/openapi.test.ts
// compares them with what the service answers).
export const resellerNotFound = new NotFoundError('No API access is configured for reseller 6.').toBody();
export const resourceServerNotFound = new NotFoundError('No resource server 3f1c2b9e-8a4d-4c57-9e21-6d0f5b7a1c33.').toBody();
export const passwordRequired = new ValidationFailedError({ password: PASSWORD_REQUIRED }).toBody();
export const emailTaken = new ConflictError('The e-mail is already used by another reseller.', {
  email: 'is already used by another reseller',
}).toBody();

const CREATED_AT = '2026-01-05T14:03:27.512Z';
const UPDATED_AT = '2026-02-11T09:41:08.230Z';

/** The API-access object as the panel's modal shows it: a configured, active reseller. */
export const apiAccessExample = {
  resellerId: '6',
  name: 'meu nome aqui',
  email: 'meu_nome@aqui.com.br',
  allowedIp: ['192.168.123.0/24'],
  clientId: EXAMPLE_CLIENT.client_id,
  clientSecret: EXAMPLE_CLIENT.client_secret,
  active: true,
  createdAt: CREATED_AT,
  updatedAt: UPDATED_AT,
};

export const createdAccessExample = { ...apiAccessExample, updatedAt: CREATED_AT };

/** A client imported from Passport with only a hash of its secret (docs/passport-migration.md). */
export const importedAccessExample = {
  ...apiAccessExample,
  clientSecret: null,
  secretRotationRequired: true,
};

export const switchedOffAccessExample = { ...apiAccessExample, active: false };

export const rotatedAccessExample = { ...apiAccessExample, clientSecret: 'q7WzR2mKc9XbN4tLhV0sJe8GuYp3AaDf6ZoQi1Bn' };

const { clientSecret: _secret, ...summaryExample } = apiAccessExample;

export const resellerListExample = {
  items: [summaryExample, { ...summaryExample, resellerId: '4', name: 'outra revenda', email: 'api@outra-revenda.com.br', clientId: '17' }],
  nextCursor: null,
};

export const resourceServerExample = {
  id: '3f1c2b9e-8a4d-4c57-9e21-6d0f5b7a1c33',
  name: 'DBS API',
  clientId: '20',
  clientSecret: 'H4sT9mYc2QvL7nXe0RkWb5JdPz8UaGf3ToVi6Ns1',
};

export const resourceServerListExample = {
  items: [{ id: resourceServerExample.id, name: resourceServerExample.name, clientId: resourceServerExample.clientId, createdAt: CREATED_AT }],
};

// GET /auth/verify's denials (routes/auth-verify.ts; test/docs/openapi.test.ts compares them with its answers).
export const bearerRequired = { error: 'unauthorized', message: 'A bearer access token is required.' };
export const invalidToken = { error: 'invalid_token', message: 'The access token is malformed, unknown, expired or revoked.' };
export const INVALID_TOKEN_CHALLENGE =
  'Bearer realm="reseller-auth", error="invalid_token", error_description="The access token is malformed, unknown, expired or revoked"';
