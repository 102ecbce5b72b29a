// Bearer authentication of the admin API (docs/admin-api.md: `Authorization: Bearer <admin token>`, any of
// the comma-separated ADMIN_TOKENS, so one can be rotated without downtime). Registered inside
// the /admin routes' scope only: health probes and metrics on the same port stay open.
import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { adminTokenId } from '../../admin/audit.js';
import { UnauthorizedError } from '../../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The id (SHA-256 prefix) of the admin token that authenticated the request, for the audit trail. */
    adminTokenId: string;
  }
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/** RFC 6750 §2.1 credentials; the scheme name is case-insensitive (RFC 9110 §11.1). */
function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

/**
 * Constant time: the digests of the presented and the configured tokens have equal lengths, and
 * every configured token is compared (no early exit), so timing says nothing about which token
 * matched or how much of one did.
 */
export function matchesAdminToken(presented: string, configured: readonly Buffer[]): boolean {
  const digest = sha256(presented);
  let matched = false;
  for (const candidate of configured) matched = timingSafeEqual(candidate, digest) || matched;
  return matched;
}

export default fp(
  async (fastify) => {
    const configured = fastify.services.config.adminTokens.map(sha256);
    fastify.decorateRequest('adminTokenId', '');
    fastify.addHook('onRequest', async (request) => {
      const token = bearerToken(request.headers.authorization);
      if (token === null || !matchesAdminToken(token, configured)) throw new UnauthorizedError();
      request.adminTokenId = adminTokenId(token);
    });
  },
  { name: 'admin-auth', dependencies: ['services'] },
);
