// POST /oauth/token without HTTP: credentials rules, the library's token handler with our model
// and grants, and the Passport-shaped success body.
import OAuth2Server from '@node-oauth/oauth2-server';
import { extractClientCredentials } from './client-credentials.js';
import { PasswordGrant } from './grants/password-grant.js';
import { RefreshTokenGrant } from './grants/refresh-token-grant.js';
import { fromLibraryError } from './library-errors.js';
import { type RequestContext, type SavedToken, type TokenModelDeps, createTokenModel } from './token-model.js';

export interface TokenResponse {
  token_type: 'Bearer';
  expires_in: number;
  access_token: string;
  refresh_token: string;
  scope: string;
}

export interface TokenEndpointOptions extends TokenModelDeps {
  accessTokenTtl: number;
  refreshTokenTtl: number;
}

export interface TokenRequest {
  params: Record<string, string>;
  authorization: string | undefined;
  context: RequestContext;
}

export type IssuedTokenResult = { response: TokenResponse; saved: SavedToken; grantType: string };

export function createTokenEndpoint(options: TokenEndpointOptions) {
  return async function issueToken({ params, authorization, context }: TokenRequest): Promise<IssuedTokenResult> {
    let usedBasic = false;
    try {
      const credentials = extractClientCredentials(authorization, params);
      usedBasic = credentials.usedBasic;
      const model = createTokenModel(options, { ...context, username: params.grant_type === 'password' ? params.username : undefined });
      const server = new OAuth2Server({
        model,
        accessTokenLifetime: options.accessTokenTtl,
        refreshTokenLifetime: options.refreshTokenTtl,
        requireClientAuthentication: { password: true, refresh_token: true },
        // Our grants replace the library's built-in ones (same names, see ./grants).
        extendedGrantTypes: {
          password: PasswordGrant as unknown as typeof OAuth2Server.AbstractGrantType,
          refresh_token: RefreshTokenGrant as unknown as typeof OAuth2Server.AbstractGrantType,
        },
      });
      // The library reads form parameters only; JSON bodies were normalised to the same shape.
      const request = new OAuth2Server.Request({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '0' },
        query: {},
        body: { ...params, client_id: credentials.clientId, client_secret: credentials.clientSecret },
      });
      const saved = (await server.token(request, new OAuth2Server.Response({ headers: {} }))) as SavedToken;
      return {
        grantType: params.grant_type ?? '',
        saved,
        response: {
          token_type: 'Bearer',
          expires_in: Math.max(0, Math.round((saved.accessTokenExpiresAt.getTime() - Date.now()) / 1000)),
          access_token: saved.accessToken,
          refresh_token: saved.refreshToken ?? '',
          scope: (saved.scope ?? []).join(' '),
        },
      };
    } catch (err) {
      throw fromLibraryError(err, { usedBasic, grantType: params.grant_type, scope: params.scope });
    }
  };
}
