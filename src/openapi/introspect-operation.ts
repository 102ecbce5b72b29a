// What the OpenAPI document says about POST /oauth/introspect besides its summary and
// description (routes/oauth/introspect.ts): security, examples, and each status docs/resource-servers.md gives it.
import { introspectionResponse } from '../schemas/oauth.js';
import { invalidClient, missingParameter, oauthErrorStatus, payloadTooLarge, serverError, temporarilyUnavailable } from './oauth-errors.js';
import { RESOURCE_SERVER_BASIC } from './public-document.js';
import { EXAMPLE_ACCESS_TOKEN, introspectRequest } from './request-bodies.js';
import { NO_STORE_HEADERS, documented, withExamples } from './responses.js';

/** RFC 7662 §2.1: only registered resource servers, by HTTP Basic. */
const security: Record<string, string[]>[] = [{ [RESOURCE_SERVER_BASIC]: [] }];

export const introspectOperation = {
  operationId: 'introspectToken',
  security,
  // The route validates by hand (routes/oauth/introspect.ts): this schema only documents.
  body: withExamples(introspectRequest, {
    access_token: { summary: 'An access token a resource server received', value: { token: EXAMPLE_ACCESS_TOKEN, token_type_hint: 'access_token' } },
  }),
  response: {
    200: documented(introspectionResponse, {
      description:
        'RFC 7662 §2.2. Active token: its claims. Anything else — unknown, malformed, expired, revoked, a refresh token, a token of ' +
        'a disabled client or user — `{"active":false}` and no other field.',
      headers: NO_STORE_HEADERS,
      examples: {
        active: {
          summary: 'Active access token',
          value: {
            active: true,
            token_type: 'Bearer',
            scope: '',
            client_id: '19',
            username: 'meu_nome@aqui.com.br',
            sub: '42',
            reseller_id: '6',
            exp: 1767225600,
            iat: 1767222000,
            iss: 'http://localhost:3000',
            jti: 'b4c1f0e2-5d7a-4e8b-9c3f-2a6d8e1f0b7c',
          },
        },
        inactive: { summary: 'Unknown, expired, revoked, or a refresh token', value: { active: false } },
      },
    }),
    400: oauthErrorStatus('Missing `token`, or a repeated or malformed parameter: `invalid_request`.', {
      invalid_request: missingParameter('token'),
    }),
    401: invalidClient('Not a registered resource server, or no HTTP Basic credentials: `invalid_client`, always with `WWW-Authenticate`.'),
    413: payloadTooLarge,
    500: serverError,
    503: temporarilyUnavailable,
  },
};
