// The base of the internal port's OpenAPI document (/admin/*, /auth/verify). The paths are added
// by @fastify/swagger from the routes' zod schemas (src/schemas/admin.ts). Served only by the
// internal listener, which the Helm ingress never exposes.
import { ADMIN_SECURITY_SCHEME, adminSecurityScheme } from '../schemas/admin.js';
import { API_VERSION, OPENAPI_VERSION, type OpenApiBase } from './document-base.js';

const DESCRIPTION = `The internal API of reseller-auth, on ADMIN_PORT only: what the DBS admin panel's \
"Revendas → API" modal and ops call, and the ingress authentication endpoint.

Every \`/admin/*\` route needs \`Authorization: Bearer <admin token>\` (one of ADMIN_TOKENS); missing or wrong → 401. \
Validation errors → 400 \`{"error":"validation_failed","message":"…","fields":{"allowedIp":"…"}}\` naming every bad field.`;

export function adminDocument(): OpenApiBase {
  return {
    openapi: OPENAPI_VERSION,
    info: { title: 'reseller-auth: internal admin API', version: API_VERSION, description: DESCRIPTION },
    tags: [
      { name: 'admin', description: "Resellers' API access and the resource servers allowed to introspect" },
      { name: 'ingress', description: 'nginx auth_request / ingress-nginx auth-url' },
    ],
    components: { securitySchemes: { [ADMIN_SECURITY_SCHEME]: adminSecurityScheme } },
  };
}

/** Where the internal port serves its Swagger UI (and `${ADMIN_DOCS_PATH}/json`). */
export const ADMIN_DOCS_PATH = '/admin/documentation';
