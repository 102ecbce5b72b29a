// The base of the public port's OpenAPI document: what no route carries by itself. The paths are
// added by @fastify/swagger from the routes' zod schemas (src/openapi/*-operation.ts).
import { API_VERSION, OPENAPI_VERSION, type OpenApiBase } from './document-base.js';

/** Security scheme names, as the operations' `security` requirements name them. */
export const CLIENT_BASIC = 'clientBasic';
export const RESOURCE_SERVER_BASIC = 'resourceServerBasic';
export const PASSWORD_FLOW = 'passwordFlow';

const DESCRIPTION = `The OAuth2 authorization server of the DBS reseller API. It issues reseller API tokens with \
Laravel Passport's request and response shapes, so integrations written against the DBS's Passport keep working unchanged.

- **Resellers** call \`POST /oauth/token\` with exactly this JSON body, and nothing else changes for them: \
\`{"grant_type":"password","client_id":"19","client_secret":"<40 chars>","username":"meu_nome@aqui.com.br","password":"…","scope":""}\`
- **Resource servers** (the DBS API) call \`POST /oauth/introspect\` on every API request they serve.

Every error body is \`{"error":CODE,"error_description":TEXT,"message":TEXT}\` (\`message\` repeats the description; \
\`hint\` may be added), and every response of \`/oauth/*\` carries \`Cache-Control: no-store\` and \`Pragma: no-cache\`.

**Try it out:** the token operation's example is the resellers' body; put your client id and secret, user e-mail and \
password in it. The **Authorize** button obtains a token with the same credentials (OAuth2 password flow).`;

export function publicDocument(scopes: readonly string[]): OpenApiBase {
  return {
    openapi: OPENAPI_VERSION,
    info: { title: 'reseller-auth: DBS reseller API tokens', version: API_VERSION, description: DESCRIPTION },
    tags: [{ name: 'oauth', description: 'RFC 6749 token endpoint, RFC 7009 revocation, RFC 7662 introspection' }],
    components: {
      securitySchemes: {
        [CLIENT_BASIC]: {
          type: 'http',
          scheme: 'basic',
          description:
            'RFC 6749 §2.3.1: the client id as the user name and the client secret as the password, instead of `client_id` and ' +
            '`client_secret` in the body. Basic together with a body `client_secret`, or with a body `client_id` that differs ' +
            "from Basic's, is `invalid_request`.",
        },
        [RESOURCE_SERVER_BASIC]: {
          type: 'http',
          scheme: 'basic',
          description: "A registered resource server's `clientId` and `clientSecret` (POST /admin/resource-servers on the internal port).",
        },
        [PASSWORD_FLOW]: {
          type: 'oauth2',
          description:
            "RFC 6749 §4.3: your client's id and secret with the reseller API user's e-mail and password. " +
            'Calls from outside the client’s allowed networks are refused (403 `unauthorized_client`).',
          flows: {
            // Relative: resolved against the address the document is served from, whatever the host.
            password: { tokenUrl: '/oauth/token', refreshUrl: '/oauth/token', scopes: scopeDescriptions(scopes) },
          },
        },
      },
    },
  };
}

/** SCOPES as the OAuth2 flow lists them; Swagger UI offers each as a checkbox. */
function scopeDescriptions(scopes: readonly string[]): Record<string, string> {
  return Object.fromEntries(scopes.map((scope) => [scope, `The \`${scope}\` scope (configured in SCOPES)`]));
}
