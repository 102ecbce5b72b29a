// Maps the errors of @node-oauth/oauth2-server to the catalogue (Passport's wording). The library
// wraps anything that is not its own OAuthError in a ServerError with `inner`: unwrap ours.
import OAuth2Server from '@node-oauth/oauth2-server';
import {
  DependencyUnavailableError,
  GRANT_TYPE_HINT,
  InvalidClientError,
  InvalidCredentialsError,
  InvalidRefreshTokenError,
  InvalidRequestError,
  InvalidScopeError,
  OAuthError,
  SUPPORTED_GRANTS,
  ServerError,
  UnsupportedGrantTypeError,
} from '../errors.js';

export { SUPPORTED_GRANTS };

export function fromLibraryError(err: unknown, context: { usedBasic: boolean; grantType: string | undefined; scope: string | undefined }): Error {
  if (err instanceof OAuthError || err instanceof DependencyUnavailableError) return err;
  if (!(err instanceof OAuth2Server.OAuthError)) return err instanceof Error ? err : new ServerError();
  const inner = (err as { inner?: unknown }).inner;
  if (inner instanceof OAuthError || inner instanceof DependencyUnavailableError) return inner;
  const parameter = /`(\w+)`/.exec(err.message)?.[1];
  switch (err.name) {
    case 'invalid_request':
      // Passport's "Check the `x` parameter"; for grant_type, what it must be.
      if (parameter === 'grant_type') return new InvalidRequestError(GRANT_TYPE_HINT);
      return new InvalidRequestError(parameter ? `Check the \`${parameter}\` parameter` : undefined);
    case 'invalid_client':
      return new InvalidClientError(context.usedBasic);
    // The library knows grants we do not offer (client_credentials, authorization_code) and
    // rejects them as not allowed for the client: to the caller they are unsupported. A grant we
    // do offer but the client may not use is an invalid_client (docs/resellers.md, "Errors").
    case 'unauthorized_client':
      return SUPPORTED_GRANTS.includes(context.grantType ?? '') ? new InvalidClientError(context.usedBasic) : new UnsupportedGrantTypeError();
    case 'invalid_grant':
      return context.grantType === 'refresh_token' ? new InvalidRefreshTokenError(err.message) : new InvalidCredentialsError();
    case 'unsupported_grant_type':
      return new UnsupportedGrantTypeError();
    case 'invalid_scope':
      return new InvalidScopeError(context.scope ?? '');
    default:
      return inner instanceof Error ? inner : err;
  }
}
