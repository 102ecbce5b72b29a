// Base of our grant types: the library's extension point (AbstractGrantType), with the one
// step both grants share — issuing a pair in a token family.
import OAuth2Server from '@node-oauth/oauth2-server';
import type { AppClient, AppUser, SavedToken, TokenModel } from '../token-model.js';

export abstract class AppGrant extends OAuth2Server.AbstractGrantType {
  protected readonly tokens: TokenModel;

  constructor(options: OAuth2Server.TokenOptions & { model: TokenModel }) {
    super(options);
    this.tokens = options.model;
  }

  protected async issue(client: AppClient, user: AppUser, scope: string[], familyId?: string): Promise<SavedToken> {
    return this.tokens.saveToken(
      {
        accessToken: await this.generateAccessToken(client, user, scope),
        accessTokenExpiresAt: this.getAccessTokenExpiresAt(),
        refreshToken: await this.generateRefreshToken(client, user, scope),
        refreshTokenExpiresAt: this.getRefreshTokenExpiresAt(),
        scope,
        familyId,
        client,
        user,
      },
      client,
      user,
    );
  }
}
