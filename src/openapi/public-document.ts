// The base of the public port's OpenAPI document: what no route carries by itself. The paths are
// added by @fastify/swagger from the routes' zod schemas (src/openapi/*-operation.ts).
//
// One security scheme only, HTTP Basic for resource servers at /oauth/introspect. Resellers put
// their client's id and secret in the body of /oauth/token and /oauth/revoke (what Passport
// integrations send), so those operations declare none: Swagger UI then never adds a Basic
// header next to a body secret (which the server refuses, RFC 6749 §2.3), and its Authorize
// dialog offers nothing a reseller would have to understand. No OAuth2 flow either: no operation
// of this document takes a bearer token, so a token obtained there would lead nowhere.
import { API_VERSION, OPENAPI_VERSION, type OpenApiBase } from './document-base.js';

/** The security scheme name that POST /oauth/introspect requires. */
export const RESOURCE_SERVER_BASIC = 'resourceServerBasic';

const DESCRIPTION = `The OAuth2 authorization server of the DBS reseller API. It issues reseller API tokens with \
Laravel Passport's request and response shapes, so integrations written against the DBS's Passport keep working unchanged.

- **Resellers** call \`POST /oauth/token\` with exactly this JSON body, and nothing else changes for them: \
\`{"grant_type":"password","client_id":"19","client_secret":"<40 chars>","username":"meu_nome@aqui.com.br","password":"…","scope":""}\`
- **Resource servers** (the DBS API) call \`POST /oauth/introspect\` on every API request they serve.

**What the DBS panel calls things** (*Revendas → API*): **Client ID** is \`client_id\`; **Client Secret** is \
\`client_secret\`; **E-mail** and **Senha** are the API user's \`username\` and \`password\`; **IP Liberado** is the list of \
addresses or CIDR blocks (\`192.168.123.0/24\`) that \`POST /oauth/token\` accepts calls from — from anywhere else it \
answers 403 \`unauthorized_client\` naming the address it saw.

Every error body is \`{"error":CODE,"error_description":TEXT,"message":TEXT}\` (\`message\` repeats the description; \
\`hint\` may be added), and every response of \`/oauth/*\` carries \`Cache-Control: no-store\` and \`Pragma: no-cache\`.

**Try it out:** open \`POST /oauth/token\`, choose the example of your grant, put your Client ID, Client Secret, e-mail \
and password in it, and execute: the response holds your \`access_token\`. Resellers need nothing from **Authorize**: it \
is for resource servers, whose credentials \`POST /oauth/introspect\` takes by HTTP Basic.`;

export function publicDocument(scopes: readonly string[]): OpenApiBase {
  const scopeNote =
    scopes.length === 0
      ? 'This service defines no scopes: send `"scope":""`.'
      : `Scopes this service knows: ${scopes.map((s) => `\`${s}\``).join(', ')}.`;
  return {
    openapi: OPENAPI_VERSION,
    info: { title: 'reseller-auth: DBS reseller API tokens', version: API_VERSION, description: `${DESCRIPTION}\n\n${scopeNote}` },
    tags: [{ name: 'oauth', description: 'RFC 6749 token endpoint, RFC 7009 revocation, RFC 7662 introspection' }],
    components: {
      securitySchemes: {
        [RESOURCE_SERVER_BASIC]: {
          type: 'http',
          scheme: 'basic',
          description:
            "For resource servers only (POST /oauth/introspect): a registered resource server's `clientId` and `clientSecret` " +
            '(POST /admin/resource-servers on the internal port). Resellers leave this empty: their credentials go in the body ' +
            'of POST /oauth/token.',
        },
      },
    },
  };
}
