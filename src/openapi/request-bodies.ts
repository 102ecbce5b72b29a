// What a client should send to /oauth/token, /oauth/revoke and /oauth/introspect, per grant, as
// the public document shows it: every required parameter marked, `grant_type` fixed per variant,
// nothing else listed. The schemas that validate these bodies (schemas/oauth.ts) are looser on
// purpose — empty means omitted, a numeric client_id is accepted and unrecognised parameters are
// ignored (RFC 6749 §3.1, §3.2) — and oauth/token-request.ts answers what they cannot in OAuth
// terms; these exist for the document only (responses.ts, documentedAs).
import { z } from 'zod';
import { MAX_PARAMETER_LENGTH } from '../oauth/token-request.js';

/** The example client of the docs: client 19 of the panel's "Revendas → API" modal, a 40-character secret. */
export const EXAMPLE_CLIENT = { client_id: '19', client_secret: '5PfPsmuAA0li5yvrB24ux88x3XYyq0W7SfpKhgFZ' } as const;
export const EXAMPLE_ACCESS_TOKEN = 'kV3nq0Rz8ZgYbq1cXw2LdA.Vq8y1RkQ6m3fZJt0bC2nD9sXeA4hL7uWgP5oIiKzY_E';
export const EXAMPLE_REFRESH_TOKEN = 'kV3nq0Rz8ZgYbq1cXw2LdA.tGzv3JOkF0XG5Qx2TlKWIA8xZyWdQe0i7oZgS1Lk3Hc';

const text = () => z.string().min(1).max(MAX_PARAMETER_LENGTH);

const clientId = z
  .string()
  .regex(/^[1-9]\d*$/)
  .describe('**Client ID** in the DBS panel ("Revendas → API"): the client\'s integer id as a decimal string. A JSON number (`19`) is accepted too.')
  .meta({ example: EXAMPLE_CLIENT.client_id });

const clientSecret = text()
  .describe(
    '**Client Secret** in the DBS panel: 40 characters. A client may send its id and secret with HTTP Basic instead ' +
      '(RFC 6749 §2.3.1) and then leaves `client_id` and `client_secret` out of the body.',
  )
  .meta({ example: EXAMPLE_CLIENT.client_secret });

const scope = z
  .string()
  .max(MAX_PARAMETER_LENGTH)
  .describe('Space-separated scopes; empty or absent for none (the usual case), `*` for every scope the service knows')
  .meta({ example: '' });

const tokenTypeHint = z
  .enum(['access_token', 'refresh_token'])
  .describe('Optional: which kind of token `token` is (RFC 7009 §2.1); an unknown value is ignored');

export const passwordGrantRequest = z
  .strictObject({
    grant_type: z.literal('password'),
    client_id: clientId,
    client_secret: clientSecret,
    username: text()
      .describe("The reseller API user's e-mail (**E-mail** in the panel), matched case-insensitively")
      .meta({ example: 'meu_nome@aqui.com.br' }),
    password: text().describe("The reseller API user's password (**Senha** in the panel)").meta({ example: 'minha-senha-secreta' }),
    scope: scope.optional(),
  })
  .describe('RFC 6749 §4.3.2: password grant');

export const refreshTokenGrantRequest = z
  .strictObject({
    grant_type: z.literal('refresh_token'),
    client_id: clientId,
    client_secret: clientSecret,
    refresh_token: text().describe('The refresh_token of the last token response; each is used once').meta({ example: EXAMPLE_REFRESH_TOKEN }),
    scope: scope.optional().describe('Optional: a subset of the scopes originally granted; absent keeps them all'),
  })
  .describe('RFC 6749 §6: refresh, which rotates the pair');

/** Every grant the token endpoint supports (oauth/library-errors.ts SUPPORTED_GRANTS), told apart by grant_type. */
export const tokenRequest = z
  .discriminatedUnion('grant_type', [passwordGrantRequest, refreshTokenGrantRequest])
  .describe('RFC 6749 §4.3.2 / §6 token request: one of the grants, each with exactly these parameters');

export const PASSWORD_GRANT_EXAMPLE = {
  grant_type: 'password',
  ...EXAMPLE_CLIENT,
  username: 'meu_nome@aqui.com.br',
  password: 'minha-senha-secreta',
  scope: '',
} satisfies z.input<typeof passwordGrantRequest>;

export const REFRESH_GRANT_EXAMPLE = {
  grant_type: 'refresh_token',
  ...EXAMPLE_CLIENT,
  refresh_token: EXAMPLE_REFRESH_TOKEN,
  scope: '',
} satisfies z.input<typeof refreshTokenGrantRequest>;

export const revokeRequest = z
  .strictObject({
    token: text().describe('The access or refresh token to revoke').meta({ example: EXAMPLE_REFRESH_TOKEN }),
    token_type_hint: tokenTypeHint.optional().meta({ example: 'refresh_token' }),
    client_id: clientId,
    client_secret: clientSecret,
  })
  .describe('RFC 7009 §2.1 revocation request, authenticated as on /oauth/token');

export const introspectRequest = z
  .strictObject({
    token: text().describe('The access token a resource server received').meta({ example: EXAMPLE_ACCESS_TOKEN }),
    token_type_hint: tokenTypeHint.optional().meta({ example: 'access_token' }),
  })
  .describe('RFC 7662 §2.1 introspection request; the resource server authenticates with HTTP Basic only, never in the body');
