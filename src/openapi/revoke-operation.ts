// What the OpenAPI document says about POST /oauth/revoke besides its summary and description
// (routes/oauth/revoke.ts): the request body per request-bodies.ts, named request examples, and each status docs/resource-servers.md gives it.
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
import { EXAMPLE_ACCESS_TOKEN, EXAMPLE_CLIENT, EXAMPLE_REFRESH_TOKEN, revokeRequest } from './request-bodies.js';
import { NO_STORE_HEADERS, documentedAs, documented, withExamples } from './responses.js';

export const revokeOperation = {
  operationId: 'revokeToken',
  // No security scheme: the client's credentials travel in the body, as on /oauth/token.
  body: documentedAs(
    revokeRequestBody,
    withExamples(revokeRequest, {
      refresh_token: {
        summary: 'Revoke a refresh token (and the access token issued with it)',
        value: { token: EXAMPLE_REFRESH_TOKEN, token_type_hint: 'refresh_token', ...EXAMPLE_CLIENT },
      },
      access_token: {
        summary: 'Revoke an access token (its refresh token stays usable)',
        value: { token: EXAMPLE_ACCESS_TOKEN, token_type_hint: 'access_token', ...EXAMPLE_CLIENT },
      },
    }),
  ),
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
