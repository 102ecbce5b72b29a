// What the OpenAPI document says about POST /oauth/revoke besides its summary and description
// (routes/oauth/revoke.ts): security, named request examples, and each status API.md gives it.
import { TooManyRequestsError } from '../errors.js';
import { emptyResponse, revokeRequestBody } from '../schemas/oauth.js';
import {
  invalidClient,
  missingParameter,
  oauthErrorStatus,
  payloadTooLarge,
  retryAfter,
  serverError,
  temporarilyUnavailable,
} from './oauth-errors.js';
import { CLIENT_BASIC } from './public-document.js';
import { NO_STORE_HEADERS, documented, withExamples } from './responses.js';

/** Client credentials in the body (no security scheme) or by HTTP Basic, as on /oauth/token. */
const security: Record<string, string[]>[] = [{}, { [CLIENT_BASIC]: [] }];

export const revokeOperation = {
  operationId: 'revokeToken',
  security,
  body: withExamples(revokeRequestBody, {
    refresh_token: {
      summary: 'Revoke a refresh token (and the access token issued with it)',
      value: {
        token: 'tGzv3JOkF0XG5Qx2TlKWIA8xZyWdQe0i7oZgS1Lk3Hc',
        token_type_hint: 'refresh_token',
        client_id: '19',
        client_secret: '5PfPsmuAA0li5yvrB24ux88x3XYyq0W7SfpKhgFZ',
      },
    },
  }),
  response: {
    200: documented(emptyResponse, {
      description:
        'RFC 7009 §2.2: empty body, whether the token was known or not. A token issued to another client is left alone and still answered 200.',
      headers: NO_STORE_HEADERS,
    }),
    400: oauthErrorStatus('Missing `token`, or a missing, repeated or malformed parameter: `invalid_request`.', {
      invalid_request: missingParameter('token'),
    }),
    401: invalidClient('Unknown client, wrong secret, disabled client: `invalid_client`.'),
    413: payloadTooLarge,
    429: oauthErrorStatus(
      'Too many failed client authentications per client and address, or failed attempts per address, as on /oauth/token (docs/rate-limits.md): `too_many_requests`.',
      { too_many_requests: { summary: 'Too many failed attempts', error: new TooManyRequestsError(900) } },
      { 'Retry-After': retryAfter(new TooManyRequestsError(900)) },
    ),
    500: serverError,
    503: temporarilyUnavailable,
  },
};
