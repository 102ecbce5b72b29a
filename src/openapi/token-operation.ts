// The schema of POST /oauth/token: the zod schemas that validate and serialise it
// (schemas/oauth.ts) with the documentation of docs/resellers.md around them, for routes/oauth/token.ts.
import {
  InvalidCredentialsError,
  InvalidRefreshTokenError,
  InvalidRequestError,
  InvalidScopeError,
  TooManyRequestsError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
} from '../errors.js';
import { tokenRequestBody, tokenResponse } from '../schemas/oauth.js';
import {
  invalidClient,
  missingParameter,
  oauthErrorStatus,
  payloadTooLarge,
  retryAfter,
  serverError,
  temporarilyUnavailable,
} from './oauth-errors.js';
import { EXAMPLE_ACCESS_TOKEN, EXAMPLE_REFRESH_TOKEN, PASSWORD_GRANT_EXAMPLE, REFRESH_GRANT_EXAMPLE, tokenRequest } from './request-bodies.js';
import { NO_STORE_HEADERS, documentedAs, documented, withExamples } from './responses.js';

// docs/resellers.md, in the words a reseller reads on the documentation page.
const DESCRIPTION = `RFC 6749 §4.3 password grant and §6 refresh, with Laravel Passport's request and response shapes.

**Request**
- Bodies: \`application/json\` **and** \`application/x-www-form-urlencoded\`. Any other type → 400 \`invalid_request\`.
- Empty-string parameters count as omitted (RFC 6749 §3.2): \`"scope":""\` is the normal case. A form parameter given twice, \
or a non-string value (other than a numeric \`client_id\`) → \`invalid_request\`.
- The body is one grant; the Schema tab lists each grant's parameters (required ones marked) and the examples are ready to \
send once your own values are in them. Unrecognised parameters are ignored (RFC 6749 §3.1): send only these.
- Client authentication: \`client_id\` + \`client_secret\` in the body — the **Client ID** and **Client Secret** that the \
DBS panel shows under "Revendas → API" — or HTTP Basic (RFC 6749 §2.3.1) with the same pair. Credentials in the \
query string → 400 \`invalid_request\`. Basic together with a body \`client_secret\`, or with a body \`client_id\` that differs \
from Basic's → \`invalid_request\` (a body \`client_id\` equal to Basic's is allowed).
- \`client_id\` is the decimal string of the client's integer id (e.g. \`"19"\`); a JSON number \`19\` is accepted too.
- Grants: \`password\` (\`username\` = the reseller API user's e-mail, matched case-insensitively, \`password\`, optional \
\`scope\`) and \`refresh_token\` (\`refresh_token\`, optional \`scope\` that must be a subset of the original). A reseller's \
client authenticates **only its own reseller's user**: valid credentials of another reseller's user → \`invalid_grant\`, as \
if the password were wrong.
- **IP allow-list** (the panel's **IP Liberado**: addresses or CIDR blocks): after the client has authenticated, the caller's address (as resolved under the configured trusted \
proxies) must fall inside one of the client's allowed networks, else **403** \`unauthorized_client\` whose description names \
the address the server saw. An unauthenticated caller never learns whether a client exists or what its networks are.

**Response**: 200 with \`Cache-Control: no-store\` and \`Pragma: no-cache\`. Tokens are opaque random strings of at least \
256 bits. Refreshing rotates the pair, as Passport does: the old refresh token and the access token issued with it stop \
working at once, and presenting a refresh token that was already used revokes the whole family it belongs to (RFC 9700 §4.14.2).

**Errors**: status and body as Laravel Passport sends them, so existing integrations keep parsing them: \
\`{"error":CODE,"error_description":TEXT,"message":TEXT}\` (\`message\` repeats the description; \`hint\` may be added), \
with the no-store headers.`;

const tooMany = new TooManyRequestsError(900);

export const tokenRouteSchema = {
  operationId: 'issueToken',
  summary: 'Obtain or refresh an access token',
  description: DESCRIPTION,
  tags: ['oauth'],
  // No security scheme: the client's credentials travel in the body, as the resellers send them.
  body: documentedAs(
    tokenRequestBody,
    withExamples(tokenRequest, {
      password: { summary: "Password grant: the resellers' body", value: PASSWORD_GRANT_EXAMPLE },
      refresh_token: { summary: 'Refresh: rotates the pair', value: REFRESH_GRANT_EXAMPLE },
    }),
  ),
  response: {
    200: documented(tokenResponse, {
      description: 'RFC 6749 §5.1: a new access token and refresh token.',
      headers: NO_STORE_HEADERS,
      examples: {
        issued: {
          summary: 'Tokens issued',
          value: {
            token_type: 'Bearer',
            expires_in: 3600,
            access_token: EXAMPLE_ACCESS_TOKEN,
            refresh_token: EXAMPLE_REFRESH_TOKEN,
            scope: '',
          },
        },
      },
    }),
    400: oauthErrorStatus(
      "Wrong username or password, disabled user, another reseller's user; refresh token unknown, expired, revoked, reused or " +
        'of another client (`invalid_grant`). Missing, repeated or malformed parameter; unsupported body type (`invalid_request`). ' +
        'Unknown `grant_type` (`unsupported_grant_type`). Unknown scope, or refresh scope wider than the original (`invalid_scope`).',
      {
        invalid_grant: { summary: 'Wrong username or password', error: new InvalidCredentialsError() },
        invalid_grant_reused: {
          summary: 'Refresh token used twice: its family is revoked',
          error: new InvalidRefreshTokenError('Token has been revoked'),
        },
        invalid_request: missingParameter('grant_type'),
        invalid_request_both: {
          summary: 'HTTP Basic and a body client_secret',
          error: new InvalidRequestError('Send the client credentials either with HTTP Basic or in the body, not both'),
        },
        unsupported_grant_type: { summary: 'Unknown grant_type', error: new UnsupportedGrantTypeError() },
        invalid_scope: { summary: 'Unknown scope', error: new InvalidScopeError('admin') },
      },
    ),
    401: invalidClient('Unknown client, wrong secret, disabled client, client not allowed the grant: `invalid_client`.'),
    403: oauthErrorStatus(
      "The client authenticated, but the caller's address is outside its allowed networks: `unauthorized_client`, naming the address the server saw.",
      {
        unauthorized_client: {
          summary: 'Caller outside the allowed networks',
          error: new UnauthorizedClientError('The client is not allowed to request tokens from 203.0.113.7.'),
        },
      },
    ),
    413: payloadTooLarge,
    429: oauthErrorStatus(
      'Too many failed attempts per user, per client and address, or per address (LOGIN_MAX_FAILURES_* within LOGIN_WINDOW): `too_many_requests`.',
      { too_many_requests: { summary: 'Too many failed attempts', error: tooMany } },
      { 'Retry-After': retryAfter(tooMany) },
    ),
    500: serverError,
    503: temporarilyUnavailable,
  },
};
