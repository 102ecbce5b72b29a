// Base of our grant types: the library's extension point (AbstractGrantType), with the one
// step both grants share — issuing a pair in a token family.
import OAuth2Server from '@node-oauth/oauth2-server';
import { familyToken, newFamilyId } from '../../token-store/token-store.js';
import type { AppClient, AppUser, SavedToken, TokenModel } from '../token-model.js';

export abstract class AppGrant extends OAuth2Server.AbstractGrantType {
  protected readonly tokens: TokenModel;

  constructor(options: OAuth2Server.TokenOptions & { model: TokenModel }) {
    super(options);
    this.tokens = options.model;
  }

  /**
   * A pair in a new family, or (rotation, Passport exchange) in the family it continues. Both
   * tokens carry the family id (token-store.ts: one hash slot per family).
   */
  protected async issue(client: AppClient, user: AppUser, scope: string[], continuedFamily?: string): Promise<SavedToken> {
    const familyId = continuedFamily ?? newFamilyId();
    return this.tokens.saveToken(
      {
        accessToken: familyToken(familyId),
        accessTokenExpiresAt: this.getAccessTokenExpiresAt(),
        refreshToken: familyToken(familyId),
        refreshTokenExpiresAt: this.getRefreshTokenExpiresAt(),
        scope,
        familyId,
        continues: continuedFamily !== undefined,
        client,
        user,
      },
      client,
      user,
    );
  }
}
