// Every status each operation of the admin document answers, described, with examples
// (admin-examples.ts). The admin routes declare their errors as the classes `4xx` and `5xx` (one
// serializer for the `{"error","message","fields"}` body); this table says which statuses of
// those classes each operation really answers, and plugins/external/swagger.ts documents them
// instead of the classes, on the schema the route declares for the status or its class.
import { resellerApiBody, resellerListQuery, resellerParams, resourceServerBody, resourceServerParams } from '../schemas/admin.js';
import * as ex from './admin-examples.js';
import type { ExampleDoc, HeaderDoc, ResponseDoc } from './responses.js';

/** By status: what the document says about the response the route declares for it (or for its class). */
export type OperationResponses = Record<string, ResponseDoc>;

const example = (summary: string, value: unknown): ExampleDoc => ({ summary, value });

function error(
  description: string,
  examples: Record<string, [summary: string, body: ex.AppErrorBody]>,
  headers?: Record<string, HeaderDoc>,
): ResponseDoc {
  return {
    description,
    ...(headers ? { headers } : {}),
    examples: Object.fromEntries(Object.entries(examples).map(([name, [summary, body]]) => [name, example(summary, body)])),
  };
}

const retryAfter: HeaderDoc = {
  description: 'Seconds to wait before asking again (RFC 9110 §10.2.3).',
  type: 'integer',
  example: Number(ex.databaseUnavailable.headers['retry-after']),
};

/** What every /admin/* operation may answer: no or a wrong admin token, a failure, an outage. */
const common = (outage: string) => ({
  401: error(
    'No `Authorization: Bearer <admin token>`, or a token that is not one of ADMIN_TOKENS.',
    { unauthorized: ['Missing or wrong admin token', ex.unauthorized.toBody()] },
    {
      'WWW-Authenticate': {
        description: 'The bearer challenge (RFC 6750 §3).',
        type: 'string',
        example: ex.unauthorized.headers['www-authenticate'],
      },
    },
  ),
  500: error('An unexpected failure: logged with the request, never described in the answer.', {
    server_error: ['Unexpected failure', ex.unexpected.toBody()],
  }),
  503: error(
    `${outage} Ask again after \`Retry-After\` seconds.`,
    { database: ['PostgreSQL unreachable', ex.databaseUnavailable.toBody()], token_store: ['Redis unreachable', ex.tokenStoreUnavailable.toBody()] },
    { 'Retry-After': retryAfter },
  ),
});

const READ_OUTAGE = 'The database is unreachable.';
const CHANGE_OUTAGE =
  'The database or the token store is unreachable. Tokens are revoked before and after the database update, so asking again is safe; docs/revocation.md says what was guaranteed.';
const REGISTRY_OUTAGE = 'The database or the token store is unreachable.';
const REMOVAL_OUTAGE = 'The change could not be recorded: usually nothing was removed, so ask again (a 404 then means it was).';

/** What an operation with a JSON body may answer besides its validation errors. */
const withBody = {
  413: error('A body over the size limit.', { payload_too_large: ['Body too large', ex.payloadTooLarge.toBody()] }),
  415: error('A body of another type than `application/json` (`text/plain` is read as text, and is a 400: not a JSON object).', {
    unsupported_media_type: ['Not JSON', ex.unsupportedMediaType.toBody()],
  }),
};

const invalidResellerId: [string, ex.AppErrorBody] = ['resellerId is not an id', ex.rejected('params', resellerParams, { resellerId: 'revenda 6' })];
const invalidResellerIdOnly = error('`validation_failed`: `resellerId` is not 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-".', {
  validation_failed: invalidResellerId,
});
const resellerNotFound = error('No API access was ever configured for this reseller.', { not_found: ['Never configured', ex.resellerNotFound] });

/** Keyed by `METHOD url` as Fastify registers the route (a route of several methods: its first). */
const OPERATIONS: Record<string, OperationResponses> = {
  'PUT /admin/resellers/:resellerId/api': {
    200: { description: 'Updated, or switched on again: the API-access object.', examples: { updated: example('Updated', ex.apiAccessExample) } },
    201: {
      description: 'Created: the API-access object with the new client id and secret.',
      examples: { created: example('Created', ex.createdAccessExample) },
    },
    400: error('`validation_failed` naming every bad field (docs/input-validation.md), or a body that is not JSON (`bad_request`).', {
      validation_failed: [
        'A bad e-mail and an impossible address',
        ex.rejected('body', resellerApiBody, {
          name: 'meu nome aqui',
          email: 'meu_nome@aqui',
          password: 'minha-senha-secreta',
          allowedIp: '192.168.123.456/32',
        }),
      ],
      unknown_field: [
        'A field the API does not have (a typo is never dropped silently)',
        ex.rejected('body', resellerApiBody, {
          name: 'meu nome aqui',
          email: 'meu_nome@aqui.com.br',
          password: 'minha-senha-secreta',
          allowedIp: '192.168.123.0/24',
          allowed_ip: '10.0.0.0/8',
        }),
      ],
      password_required: ['First save without a password', ex.passwordRequired],
      invalid_reseller_id: invalidResellerId,
      bad_request: ['Unparsable JSON', ex.unparsableBody],
    }),
    409: error('The e-mail belongs to another reseller’s API user.', { conflict: ['E-mail taken', ex.emailTaken] }),
    ...withBody,
    ...common(CHANGE_OUTAGE),
  },
  'GET /admin/resellers/:resellerId/api': {
    200: {
      description: 'The API-access object, with the client secret as the modal shows it.',
      examples: {
        active: example('Configured', ex.apiAccessExample),
        switched_off: example('Switched off (DELETE); the next PUT switches it on', ex.switchedOffAccessExample),
        imported: example('Imported from Passport with a hashed secret: rotate it', ex.importedAccessExample),
      },
    },
    400: invalidResellerIdOnly,
    404: resellerNotFound,
    ...common(READ_OUTAGE),
  },
  'POST /admin/resellers/:resellerId/api/secret': {
    200: { description: 'The API-access object with the new secret.', examples: { rotated: example('New secret', ex.rotatedAccessExample) } },
    400: invalidResellerIdOnly,
    404: resellerNotFound,
    ...common(CHANGE_OUTAGE),
  },
  'DELETE /admin/resellers/:resellerId/api': {
    204: { description: 'Switched off: client and user disabled, every token revoked.' },
    400: invalidResellerIdOnly,
    404: resellerNotFound,
    ...common(CHANGE_OUTAGE),
  },
  'GET /admin/resellers': {
    200: { description: 'One page of configured resellers, without secrets.', examples: { page: example('The last page', ex.resellerListExample) } },
    400: error('`validation_failed`: a `limit` outside 1–100 or a `cursor` this API did not return.', {
      validation_failed: ['limit out of range', ex.rejected('querystring', resellerListQuery, { limit: '500' })],
    }),
    ...common(READ_OUTAGE),
  },
  'POST /admin/resource-servers': {
    201: {
      description: 'Registered: its credentials for HTTP Basic at /oauth/introspect, the secret shown only here.',
      examples: { created: example('Registered', ex.resourceServerExample) },
    },
    400: error('`validation_failed` naming the bad field, or a body that is not JSON (`bad_request`).', {
      validation_failed: ['Empty name', ex.rejected('body', resourceServerBody, { name: '  ' })],
      unknown_field: ['A field the API does not have', ex.rejected('body', resourceServerBody, { name: 'DBS API', nome: 'DBS API' })],
      bad_request: ['Unparsable JSON', ex.unparsableBody],
    }),
    ...withBody,
    ...common(REGISTRY_OUTAGE),
  },
  'GET /admin/resource-servers': {
    200: {
      description: 'Registered resource servers, without secrets.',
      examples: { list: example('One resource server', ex.resourceServerListExample) },
    },
    ...common(READ_OUTAGE),
  },
  'DELETE /admin/resource-servers/:id': {
    204: { description: 'Removed: no instance accepts its credentials any more.' },
    400: error('`validation_failed`: an id over 64 characters or with control characters.', {
      validation_failed: ['id too long', ex.rejected('params', resourceServerParams, { id: 'x'.repeat(65) })],
    }),
    404: error('No resource server has this id.', { not_found: ['Unknown id', ex.resourceServerNotFound] }),
    ...common(REMOVAL_OUTAGE),
  },
  'GET /auth/verify': {
    200: { description: 'Access allowed: X-Auth-User, X-Auth-Client-Id, X-Auth-Reseller-Id and X-Auth-Scope describe the caller.' },
    401: error(
      'Access denied; nginx passes `WWW-Authenticate` on to the client.',
      {
        no_token: ['No bearer token (RFC 6750 §3.1: no error code)', ex.bearerRequired],
        invalid_token: ['Unknown, expired or revoked token', ex.invalidToken],
      },
      { 'WWW-Authenticate': { description: 'The bearer challenge (RFC 6750 §3).', type: 'string', example: ex.INVALID_TOKEN_CHALLENGE } },
    ),
    503: error(
      'The token store is unreachable: the token is not known to be invalid; nginx answers 500 and the client retries.',
      { token_store: ['Redis unreachable', ex.tokenStoreUnavailable.toBody()] },
      { 'Retry-After': retryAfter },
    ),
  },
};

/** RFC 9111 §5.2.2.5: every /admin/* answer, errors included, holds a client secret or personal data. */
const ADMIN_NO_STORE: Record<string, HeaderDoc> = {
  'Cache-Control': {
    description: 'Always `no-store`: no cache may keep a secret or an e-mail (RFC 9111 §5.2.2.5).',
    type: 'string',
    example: 'no-store',
  },
  Pragma: { description: 'Always `no-cache`, for HTTP/1.0 caches.', type: 'string', example: 'no-cache' },
};

const withNoStore = (responses: OperationResponses): OperationResponses =>
  Object.fromEntries(Object.entries(responses).map(([status, doc]) => [status, { ...doc, headers: { ...ADMIN_NO_STORE, ...doc.headers } }]));

export const ADMIN_OPERATIONS: Record<string, OperationResponses> = Object.fromEntries(
  Object.entries(OPERATIONS).map(([operation, responses]) => [operation, operation.includes(' /admin/') ? withNoStore(responses) : responses]),
);
