// The refresh grant's Passport branch: a refresh token our store does not know, shaped
// like a Passport one, is checked the way league/oauth2-server's RefreshTokenGrant checks it
// (same hints), used up once, and answered with a token family of ours. The family's id derives
// from the Passport refresh token's id, so that presenting that token again (a reuse, RFC 9700
// §4.14.2) revokes the pair its first exchange issued and every rotation of it.
import { InvalidRefreshTokenError, InvalidScopeError } from '../errors.js';
import type { AppClient, AppUser, TokenModel } from '../oauth/token-model.js';
import { derivedFamilyId } from '../token-store/token-store.js';
import type { LegacyRefreshTokens } from './legacy-refresh-tokens.js';

export async function redeemPassportRefreshToken(
  legacy: LegacyRefreshTokens,
  presented: string,
  client: AppClient,
  requested: string[] | undefined,
  tokens: TokenModel,
): Promise<{ user: AppUser; scope: string[]; familyId: string }> {
  const payload = await legacy.open(presented);
  if (!payload) throw new InvalidRefreshTokenError('Cannot decrypt the refresh token');
  // The same answer as for a token that cannot be used: another client's token is not confirmed to exist.
  if (payload.clientId !== client.id) throw new InvalidRefreshTokenError('Token has been revoked');
  const now = new Date();
  if (payload.expireTime < now.getTime() / 1000) throw new InvalidRefreshTokenError('Token has expired');

  // RFC 6749 §6: no scope beyond the original grant; checked before the token is used up.
  const wider = requested?.find((scope) => !payload.scopes.includes(scope) && !payload.scopes.includes('*'));
  if (wider !== undefined) throw new InvalidScopeError(wider);
  const scope = await tokens.validateScope(null, client, requested && requested.length > 0 ? requested : payload.scopes);

  const familyId = derivedFamilyId(`passport-refresh:${payload.refreshTokenId}`);
  const consumed = await legacy.consume(payload.refreshTokenId, now);
  // The imported row must be this payload's: same client and same Passport user.
  if (
    !consumed ||
    consumed.accessTokenId !== payload.accessTokenId ||
    String(consumed.clientId) !== client.id ||
    String(consumed.passportUserId) !== payload.userId
  ) {
    // Used before (or revoked): whatever its first exchange issued dies with it; a first exchange
    // still in flight is refused when it saves into the dead family.
    await tokens.tokenStore.revokeFamily(familyId);
    throw new InvalidRefreshTokenError('Token has been revoked');
  }
  const user = await tokens.findActiveUser(String(consumed.userId), client);
  if (!user) throw new InvalidRefreshTokenError('Token has been revoked');
  return { user, scope, familyId };
}
