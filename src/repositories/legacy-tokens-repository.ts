// The imported Laravel Passport token ids (docs/passport-migration.md): the revocation lookup of introspection's
// legacy path, and the once-only exchange of a Passport refresh token.
import { withDatabase } from '../db/errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';

/** An imported access token with what introspection answers about it. */
export interface LegacyAccessRecord {
  revoked: boolean;
  expiresAt: Date | null;
  clientId: number;
  userId: number;
  /** Passport's user id: the JWT's `sub`. */
  passportUserId: number | null;
  email: string;
  resellerId: string;
  /** The client and user are active, and the user is its reseller's client's user. */
  usable: boolean;
}

export interface ConsumedRefreshToken {
  accessTokenId: string;
  clientId: number;
  userId: number;
  passportUserId: number | null;
}

export interface LegacyTokensRepository {
  findAccessToken(jti: string): Promise<LegacyAccessRecord | null>;
  /**
   * Marks an unexpired, unrevoked, unused refresh token used, and revokes the access token issued
   * with it (league/oauth2-server's refresh does the same), atomically. Null when it cannot be used.
   */
  consumeRefreshToken(id: string, now: Date): Promise<ConsumedRefreshToken | null>;
  /** Revokes every imported Passport token of the user (a new password or e-mail cuts them off too). */
  revokeUserTokens(userId: number): Promise<number>;
}

export function createLegacyTokensRepository(prisma: PrismaClient): LegacyTokensRepository {
  return {
    findAccessToken: (jti) =>
      withDatabase(async () => {
        const rows = await prisma.$queryRaw<LegacyAccessRecord[]>`
          SELECT t.revoked, t.expires_at AS "expiresAt", t.client_id AS "clientId", u.id AS "userId",
                 u.passport_id AS "passportUserId", u.email, u.reseller_id AS "resellerId",
                 (c.active AND u.active AND c.kind = 'reseller' AND r.client_id = t.client_id) AS usable
          FROM legacy_access_tokens t
          JOIN clients c ON c.id = t.client_id
          JOIN users u ON u.id = t.user_id
          JOIN resellers r ON r.reseller_id = u.reseller_id
          WHERE t.id = ${jti}`;
        return rows[0] ?? null;
      }),

    consumeRefreshToken: (id, now) =>
      withDatabase(() =>
        prisma.$transaction(async (tx) => {
          const used = await tx.$queryRaw<{ accessTokenId: string }[]>`
            UPDATE legacy_refresh_tokens SET used_at = ${now}
            WHERE id = ${id} AND used_at IS NULL AND NOT revoked AND (expires_at IS NULL OR expires_at > ${now})
            RETURNING access_token_id AS "accessTokenId"`;
          const accessTokenId = used[0]?.accessTokenId;
          if (accessTokenId === undefined) return null;
          const access = await tx.$queryRaw<Omit<ConsumedRefreshToken, 'accessTokenId'>[]>`
            UPDATE legacy_access_tokens t SET revoked = true FROM users u
            WHERE t.id = ${accessTokenId} AND u.id = t.user_id
            RETURNING t.client_id AS "clientId", t.user_id AS "userId", u.passport_id AS "passportUserId"`;
          const row = access[0];
          return row ? { accessTokenId, ...row } : null;
        }),
      ),

    revokeUserTokens: (userId) =>
      withDatabase(() =>
        prisma.$transaction(async (tx) => {
          await tx.$executeRaw`
            UPDATE legacy_refresh_tokens SET revoked = true
            WHERE NOT revoked AND access_token_id IN (SELECT id FROM legacy_access_tokens WHERE user_id = ${userId})`;
          return tx.$executeRaw`UPDATE legacy_access_tokens SET revoked = true WHERE user_id = ${userId} AND NOT revoked`;
        }),
      ),
  };
}
