// RFC 6749 §6 refresh with rotation, as Passport does it: the old refresh token and the access
// token issued with it stop working at once, and a refresh token presented a second time
// revokes its whole family (RFC 9700 §4.14.2). Unlike the library's own refresh grant, the
// scope is checked before the token is used up, so an invalid_scope answer does not burn it.
import type OAuth2Server from '@node-oauth/oauth2-server';
import { InvalidRefreshTokenError, InvalidRequestError, InvalidScopeError } from '../../errors.js';
import type { AppClient, SavedToken } from '../token-model.js';
import { AppGrant } from './app-grant.js';
import { redeemPassportRefreshToken } from '../../passport/refresh-exchange.js';

export class RefreshTokenGrant extends AppGrant {
  async handle(request: OAuth2Server.Request, client: AppClient): Promise<SavedToken> {
    const presented = (request.body as Record<string, string | undefined>).refresh_token;
    if (!presented) throw new InvalidRequestError('Check the `refresh_token` parameter');
    const store = this.tokens.tokenStore;
    const claims = await store.findRefreshToken(presented);
    if (!claims) {
      // During the Passport transition (docs/passport-migration.md), a Passport refresh token (not
      // ours, so unknown to the store) is exchanged once.
      const legacy = this.tokens.legacyRefreshTokens;
      if (legacy?.accepts(presented)) {
        const { user, scope, familyId } = await redeemPassportRefreshToken(legacy, presented, client, this.getScope(request), this.tokens);
        return this.issue(client, user, scope, familyId);
      }
      // Unknown, expired, revoked — or already rotated, which consume turns into a family revocation.
      const outcome = await store.consumeRefreshToken(presented);
      throw new InvalidRefreshTokenError(outcome.status === 'reused' ? 'Token has been revoked' : 'Token is invalid or has expired');
    }
    // The same answer as for an unknown token: another client's token is not confirmed to exist.
    if (claims.clientId !== client.id) throw new InvalidRefreshTokenError('Token is invalid or has expired');

    const original = claims.scope ? claims.scope.split(' ') : [];
    const requested = this.getScope(request);
    const wider = requested?.find((scope) => !original.includes(scope));
    if (wider !== undefined) throw new InvalidScopeError(wider);
    const scope = requested && requested.length > 0 ? [...new Set(requested)] : original;

    const user = await this.tokens.findActiveUser(claims.userId, client);
    const outcome = await store.consumeRefreshToken(presented);
    if (outcome.status !== 'consumed') throw new InvalidRefreshTokenError('Token has been revoked');
    if (!user) throw new InvalidRefreshTokenError('Token has been revoked');
    return this.issue(client, user, scope, claims.familyId);
  }
}
