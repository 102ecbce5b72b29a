// zod schemas of the public /oauth/* surface: they validate requests and generate the OpenAPI
// document (one source of truth). Parameters are deliberately loose here (RFC 6749 §3.2: empty
// means omitted; a numeric client_id is accepted); oauth/token-request.ts applies the rest.
// No parameter may hold a control character (schemas/text.ts): 400 invalid_request naming it.
import { z } from 'zod';
import { MAX_PARAMETER_LENGTH } from '../oauth/token-request.js';
import { CONTROL_CHARACTERS_PARAMETER, WITHOUT_CONTROL_CHARACTERS, withoutInnerControlCharacters } from './text.js';

// Messages start with "it": the hint puts "Check the `name` parameter: " before them (errors.ts).
// RFC 6749 §3.1: a form parameter sent twice arrives as an array, and is refused as such.
const expected = (what: string) => (issue: { input?: unknown }) => (Array.isArray(issue.input) ? 'it is given more than once' : `it must be ${what}`);

// `trimmed`: surrounding whitespace is allowed because it is trimmed (token-request.ts) before use.
const text = (trimmed = false) => {
  const string = z.string({ error: expected('a string') }).max(MAX_PARAMETER_LENGTH, `it must be at most ${MAX_PARAMETER_LENGTH} characters`);
  return trimmed
    ? string.refine(withoutInnerControlCharacters, { error: CONTROL_CHARACTERS_PARAMETER })
    : string.regex(WITHOUT_CONTROL_CHARACTERS, CONTROL_CHARACTERS_PARAMETER);
};

/** Passport integrations send the client id as a JSON number too. */
const clientId = (trimmed = false) =>
  z.union([text(trimmed), z.number().int('it must be a positive integer').positive('it must be a positive integer')], {
    error: expected('a string or a positive integer'),
  });

const parameter = (description: string, example?: string, trimmed = false) =>
  text(trimmed)
    .optional()
    .describe(description)
    .meta(example === undefined ? {} : { example });

export const tokenRequestBody = z
  .looseObject({
    grant_type: parameter('`password` or `refresh_token`', 'password', true),
    client_id: clientId(true).optional().describe('The client id shown in the DBS panel, as a string or a JSON number').meta({ example: '19' }),
    client_secret: parameter('The 40-character client secret (or use HTTP Basic)', '5PfPsmuAA0li5yvrB24ux88x3XYyq0W7SfpKhgFZ', true),
    username: parameter('password grant: the reseller API user e-mail (case-insensitive)', 'meu_nome@aqui.com.br', true),
    password: parameter('password grant: the API user password', 'minha-senha-secreta'),
    refresh_token: parameter('refresh_token grant: the refresh token to rotate', undefined, true),
    scope: parameter('Space-separated scopes; empty or absent for none, `*` for all', '', true),
  })
  .describe('RFC 6749 §4.3.2 / §6 token request');

export const tokenResponse = z
  .object({
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().describe('Seconds until the access token expires'),
    access_token: z.string().describe('Opaque bearer token (256 random bits)'),
    refresh_token: z.string().describe('Opaque refresh token; single use, rotated on every refresh'),
    scope: z.string().describe('Granted scopes, space-separated; empty string when none'),
  })
  .describe('RFC 6749 §5.1 access token response');

export const oauthErrorResponse = z
  .object({
    error: z.string().describe('RFC 6749 §5.2 error code'),
    error_description: z.string(),
    message: z.string().describe('Repeats error_description, as Laravel Passport does'),
    hint: z.string().optional(),
  })
  .describe('RFC 6749 §5.2 error response, Passport-shaped');

// RFC 7009 §2.1 / RFC 7662 §2.1 requests. The introspection route validates by hand on its hot
// path (routes/oauth/introspect.ts); this schema documents the same rules for the OpenAPI document.
const tokenTypeHint = parameter('Optional hint, `access_token` or `refresh_token`; unknown values are ignored (RFC 7009 §2.1)', 'access_token');

export const revokeRequestBody = z
  .looseObject({
    token: parameter('The access or refresh token to revoke'),
    token_type_hint: tokenTypeHint,
    client_id: clientId().optional().describe('The client the token was issued to (or use HTTP Basic)').meta({ example: '19' }),
    client_secret: parameter('The client secret (or use HTTP Basic)'),
  })
  .describe('RFC 7009 §2.1 revocation request');

export const activeIntrospectionResponse = z
  .object({
    active: z.literal(true),
    token_type: z.literal('Bearer'),
    scope: z.string().describe('Space-separated scopes; empty string when none'),
    client_id: z.string().describe('The client the token was issued to (decimal string)').meta({ example: '19' }),
    username: z.string().describe('The reseller API user e-mail').meta({ example: 'meu_nome@aqui.com.br' }),
    sub: z.string().describe('The user id (decimal string)'),
    reseller_id: z.string().describe('The DBS id of the reseller').meta({ example: '6' }),
    exp: z.number().int().describe('Expiry, seconds since the epoch'),
    iat: z.number().int().describe('Issue time, seconds since the epoch'),
    iss: z.string().describe('The ISSUER of this service'),
    jti: z.string().describe('Unique id of the token'),
  })
  .describe('RFC 7662 §2.2 active token');

export const inactiveIntrospectionResponse = z
  .object({ active: z.literal(false) })
  .strict()
  .describe('RFC 7662 §2.2: unknown, malformed, expired, revoked, a refresh token, a token of a disabled client or user — nothing else is said');

export const introspectionResponse = z.union([activeIntrospectionResponse, inactiveIntrospectionResponse]);

export const emptyResponse = z.undefined().describe('Empty body');
