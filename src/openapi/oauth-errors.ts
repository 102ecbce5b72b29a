// The error responses of /oauth/* for the OpenAPI document (the error table of docs/resellers.md). Every example
// body is made by the error class the server throws in that case (errors.ts), so an example can
// never disagree with what a reseller actually receives.
import {
  BODY_LIMIT,
  InvalidClientError,
  InvalidRequestError,
  type OAuthError,
  PayloadTooLargeError,
  ServerError,
  TemporarilyUnavailableError,
} from '../errors.js';
import { oauthErrorResponse } from '../schemas/oauth.js';
import { type ExampleDoc, type HeaderDoc, NO_STORE_HEADERS, documented } from './responses.js';

export type Cases = Record<string, { summary: string; error: OAuthError }>;

/** One status of the error table: Passport's body shape, the no-store headers, examples per case. */
export function oauthErrorStatus(description: string, cases: Cases, headers: Record<string, HeaderDoc> = {}) {
  const examples: Record<string, ExampleDoc> = {};
  for (const [name, { summary, error }] of Object.entries(cases)) examples[name] = { summary, value: error.toBody() };
  return documented(oauthErrorResponse, { description, headers: { ...NO_STORE_HEADERS, ...headers }, examples });
}

export const retryAfter = (error: OAuthError): HeaderDoc => ({
  description: 'Seconds to wait before trying again (RFC 9110 §10.2.3).',
  type: 'integer',
  example: Number(error.headers['retry-after']),
});

const unavailable = new TemporarilyUnavailableError('token store');

/** Client authentication failed: the same answer for every reason, so nothing about a client leaks. */
export const invalidClient = (description: string) =>
  oauthErrorStatus(
    description,
    { invalid_client: { summary: 'Unknown client, wrong secret, disabled client', error: new InvalidClientError(true) } },
    {
      'WWW-Authenticate': {
        description: 'Present when the client used HTTP Basic (RFC 6749 §5.2), and always on /oauth/introspect.',
        type: 'string',
        example: new InvalidClientError(true).headers['www-authenticate'],
      },
    },
  );

export const payloadTooLarge = oauthErrorStatus(`Body over the size limit (${BODY_LIMIT} bytes): \`invalid_request\`.`, {
  invalid_request: { summary: 'Body too large', error: new PayloadTooLargeError(BODY_LIMIT) },
});

export const temporarilyUnavailable = oauthErrorStatus(
  'Database or token store unreachable: `temporarily_unavailable`. Nothing was decided; retry after `Retry-After` seconds.',
  { temporarily_unavailable: { summary: 'Token store unreachable', error: unavailable } },
  { 'Retry-After': retryAfter(unavailable) },
);

export const serverError = oauthErrorStatus('Unexpected failure: `server_error` (the details are logged, never sent).', {
  server_error: { summary: 'Unexpected failure', error: new ServerError() },
});

export const missingParameter = (name: string) => ({
  summary: `Missing \`${name}\``,
  error: new InvalidRequestError(`Check the \`${name}\` parameter`),
});
