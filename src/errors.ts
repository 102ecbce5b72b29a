// The error catalogue: every error the service answers with, in one place (after
// panva/node-oidc-provider). OAuth errors carry Laravel Passport's wording (league/oauth2-server
// 8.x, OAuthServerException) so that integrations written against Passport keep parsing them.
import { type IssueFacts, expectationOf } from './schemas/issues.js';
import { controlCharactersHint, parameterWithControlCharacter } from './schemas/text.js';

export interface OAuthErrorBody {
  error: string;
  error_description: string;
  message: string;
  hint?: string;
}

/** RFC 6749 §5.2 error; `status` and `headers` are what the response must carry. */
export class OAuthError extends Error {
  readonly headers: Record<string, string> = {};
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly hint?: string,
  ) {
    super(hint ? `${description} (${hint})` : description);
  }

  toBody(): OAuthErrorBody {
    const body: OAuthErrorBody = { error: this.error, error_description: this.description, message: this.description };
    if (this.hint) body.hint = this.hint;
    return body;
  }
}

export class InvalidRequestError extends OAuthError {
  constructor(hint?: string, status = 400) {
    super(
      status,
      'invalid_request',
      'The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.',
      hint,
    );
  }
}

/** RFC 6749 §5.2: 401, with WWW-Authenticate when the client tried HTTP Basic. */
export class InvalidClientError extends OAuthError {
  constructor(usedBasic: boolean) {
    super(401, 'invalid_client', 'Client authentication failed');
    if (usedBasic) this.headers['www-authenticate'] = 'Basic realm="oauth"';
  }
}

export class InvalidCredentialsError extends OAuthError {
  constructor() {
    super(400, 'invalid_grant', 'The user credentials were incorrect.');
  }
}

export class InvalidRefreshTokenError extends OAuthError {
  constructor(hint: string) {
    super(400, 'invalid_grant', 'The refresh token is invalid.', hint);
  }
}

/** The grants /oauth/token offers. */
export const SUPPORTED_GRANTS: readonly string[] = ['password', 'refresh_token'];

/** What a missing or unsupported grant_type is told to send instead. */
export const GRANT_TYPE_HINT = `Check the \`grant_type\` parameter: it must be ${SUPPORTED_GRANTS.map((grant) => `\`${grant}\``).join(' or ')}`;

export class UnsupportedGrantTypeError extends OAuthError {
  constructor() {
    super(
      400,
      'unsupported_grant_type',
      'The authorization grant type is not supported by the authorization server.',
      // Passport's description, and a hint that says what to send instead.
      GRANT_TYPE_HINT,
    );
  }
}

export class InvalidScopeError extends OAuthError {
  constructor(scope: string) {
    super(400, 'invalid_scope', 'The requested scope is invalid, unknown, or malformed', `Check the \`${scope}\` scope`);
  }
}

/** The client authenticated but calls from outside its allowed networks: 403 (docs/resellers.md, "Request"). */
export class UnauthorizedClientError extends OAuthError {
  constructor(description: string) {
    super(403, 'unauthorized_client', description);
  }
}

/** RFC 6585 §4: 429 with Retry-After; the body says the same wait, for the people reading it. */
export class TooManyRequestsError extends OAuthError {
  constructor(retryAfterSeconds: number) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, 'too_many_requests', `Too many failed attempts. Try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.`);
    this.headers['retry-after'] = String(seconds);
  }
}

/**
 * RFC 9110 §15.5.6: a method the endpoint does not have is 405 with the methods it does have in
 * `Allow`, answered in the endpoint's own (OAuth) shape so that a client parses it as any other error.
 */
export class MethodNotAllowedError extends OAuthError {
  constructor(method: string, allowed = 'POST') {
    super(405, 'invalid_request', `The ${method} method is not allowed on this endpoint: use ${allowed}.`);
    this.headers.allow = allowed;
  }
}

export class PayloadTooLargeError extends OAuthError {
  constructor(limit: number) {
    super(413, 'invalid_request', `The request body is larger than ${limit} bytes.`);
  }
}

export class TemporarilyUnavailableError extends OAuthError {
  constructor(what: string) {
    super(503, 'temporarily_unavailable', `The ${what} is temporarily unavailable. Try again shortly.`);
    this.headers['retry-after'] = '5';
  }
}

export class ServerError extends OAuthError {
  constructor() {
    super(500, 'server_error', 'The authorization server encountered an unexpected condition.');
  }
}

/** A dependency could not be reached: answered 503 by every surface, never as "not found". */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: 'database' | 'token store',
    cause?: unknown,
  ) {
    super(`${dependency} unavailable`, { cause });
  }
}

// Application (admin API) errors: {"error","message","fields"?} as docs/admin-api.md shows.

export class AppError extends Error {
  readonly headers: Record<string, string> = {};
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
  }

  toBody(): { error: string; message: string; fields?: Record<string, string> } {
    return this.fields ? { error: this.error, message: this.message, fields: this.fields } : { error: this.error, message: this.message };
  }
}

export class ValidationFailedError extends AppError {
  constructor(fields: Record<string, string>) {
    const names = Object.keys(fields);
    super(400, 'validation_failed', `Invalid ${names.length === 1 ? 'field' : 'fields'}: ${names.join(', ')}`, fields);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, fields: Record<string, string>) {
    super(409, 'conflict', message, fields);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

export class UnauthorizedError extends AppError {
  constructor() {
    super(401, 'unauthorized', 'A valid admin bearer token is required.');
    this.headers['www-authenticate'] = 'Bearer realm="admin"';
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(dependency: string) {
    super(503, 'service_unavailable', `The ${dependency} is unavailable. Try again shortly.`);
    this.headers['retry-after'] = '5';
  }
}

// One function per surface turns any error into a catalogue error. Fastify's own errors
// (content-type parsing, body limit, validation) carry a `code` and a 4xx `statusCode`.

interface FrameworkError {
  code?: string;
  statusCode?: number;
  validation?: unknown;
  message?: string;
}

/** One issue of a Fastify validation error, as fastify-type-provider-zod reports a zod issue. */
interface ValidationIssue {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: IssueFacts;
}

/** RFC 6749 §4.3.2 / RFC 7009 §2.1 / RFC 7662 §2.1: the parameters travel as one JSON object or a form. */
export const BODY_SHAPE_HINT = 'The request body must be a JSON object or form parameters';

/**
 * The hint of a /oauth/* request its schema refused, written for the reseller's developer: the
 * first parameter at fault and what it must be. The schemas' own messages (schemas/oauth.ts,
 * schemas/text.ts) start with "it" and follow "Check the `x` parameter:" as they are; zod's
 * default wording ("Invalid input") is replaced by what the issue expected (schemas/issues.ts).
 */
function validationHint(validation: readonly ValidationIssue[]): string {
  const controlled = parameterWithControlCharacter(validation);
  if (controlled !== null) return controlCharactersHint(controlled);
  const issue = validation[0];
  const parameter = (issue?.instancePath ?? '').split('/').filter(Boolean)[0];
  if (issue === undefined || parameter === undefined) {
    const unknown = issue?.params?.keys;
    return Array.isArray(unknown) ? `Unknown parameters: ${unknown.join(', ')}` : BODY_SHAPE_HINT;
  }
  const own = issue.message?.startsWith('it ') ? issue.message : undefined;
  return `Check the \`${parameter}\` parameter: ${own ?? `it ${expectationOf({ code: issue.keyword, ...issue.params })}`}`;
}

const BODY_LIMIT_CODES = new Set(['FST_ERR_CTP_BODY_TOO_LARGE']);
const MEDIA_TYPE_CODES = new Set(['FST_ERR_CTP_INVALID_MEDIA_TYPE', 'FST_ERR_CTP_INVALID_CONTENT_LENGTH']);

export const BODY_LIMIT = 64 * 1024;

/** /oauth/* answers every error in RFC 6749 §5.2 / Passport shape. */
export function toOAuthError(err: unknown): OAuthError {
  if (err instanceof OAuthError) return err;
  if (err instanceof DependencyUnavailableError) return new TemporarilyUnavailableError(err.dependency);
  const e = (err ?? {}) as FrameworkError;
  // A route's handlerTimeout ran out (the work queued behind others for too long): ask again later.
  if (e.code === 'FST_ERR_HANDLER_TIMEOUT') return new TemporarilyUnavailableError('authorization server');
  if (e.code && BODY_LIMIT_CODES.has(e.code)) return new PayloadTooLargeError(BODY_LIMIT);
  if (e.code && MEDIA_TYPE_CODES.has(e.code)) {
    return new InvalidRequestError('Send the parameters as application/json or application/x-www-form-urlencoded');
  }
  if (e.validation) return new InvalidRequestError(Array.isArray(e.validation) ? validationHint(e.validation) : BODY_SHAPE_HINT);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new InvalidRequestError(
      e.code?.startsWith('FST_ERR_CTP') ? 'The request body could not be parsed' : undefined,
      e.statusCode === 413 ? 413 : 400,
    );
  }
  return new ServerError();
}

/** The admin API and the ops endpoints answer {"error","message","fields"?}. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof DependencyUnavailableError) return new ServiceUnavailableError(err.dependency);
  const e = (err ?? {}) as FrameworkError;
  if (e.code && BODY_LIMIT_CODES.has(e.code)) return new AppError(413, 'payload_too_large', `The request body is larger than ${BODY_LIMIT} bytes.`);
  if (e.code && MEDIA_TYPE_CODES.has(e.code)) return new AppError(415, 'unsupported_media_type', 'Send the body as application/json.');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError(
      400,
      'bad_request',
      e.code?.startsWith('FST_ERR_CTP') ? 'The request body could not be parsed.' : 'The request is malformed.',
    );
  }
  return new AppError(500, 'server_error', 'The server encountered an unexpected condition.');
}
