// RFC 7009 token revocation without HTTP: the client authenticates as on /oauth/token (without
// the IP allow-list: docs/resource-servers.md), and may revoke only the tokens issued to it. The outcome is for
// logs and metrics; the caller always answers 200 (§2.2), so the endpoint is no oracle.
import { InvalidClientError } from '../errors.js';
import type { ClientsRepository } from '../repositories/clients-repository.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import type { SecretBox } from '../security/secret-box.js';
import type { TokenClaims, TokenStore } from '../token-store/token-store.js';
import { type ClientCredentials, authenticateClientSecret, parseClientId } from './client-credentials.js';
import type { LoginGuard } from './login-guard.js';

export type RevocationOutcome = 'revoked_access' | 'revoked_refresh' | 'unknown' | 'other_client';

export interface RevocationDeps {
  clients: ClientsRepository;
  tokenStore: TokenStore;
  secretBox: SecretBox;
  hasher: PasswordHasher;
}

/** Who is revoking: the caller's address, and the limiter that re-checks it before a slow legacy hash. */
export interface RevocationCaller {
  ip: string;
  loginGuard: LoginGuard;
  onSecretUpgradeFailed?: (err: unknown) => void;
}

/**
 * RFC 7009 §2.1: "The authorization server first validates the client credentials". Returns the
 * client id. Resource servers never own tokens; a disabled client revokes nothing (its tokens are
 * gone): authenticateClientSecret refuses both, with the same work as for an unknown id.
 */
export async function authenticateRevokingClient(deps: RevocationDeps, credentials: ClientCredentials, caller: RevocationCaller): Promise<string> {
  const id = parseClientId(credentials.clientId);
  const client = id === null ? null : await deps.clients.findById(id);
  const authenticated = await authenticateClientSecret(client, credentials.clientSecret, { ...deps, ...caller }, caller.ip);
  if (!client || !authenticated) throw new InvalidClientError(credentials.usedBasic);
  return String(client.id);
}

type Kind = 'access' | 'refresh';

/**
 * RFC 7009 §2.1: the hint says where to look first; when the token is not found there, the
 * search extends to the other type. Unknown hint values are ignored rather than answered with
 * `unsupported_token_type` (§2.2.1 reserves that for token types the server cannot revoke, and
 * this server revokes both kinds it issues).
 */
export async function revokeToken(deps: RevocationDeps, clientId: string, token: string, hint: string | undefined): Promise<RevocationOutcome> {
  const order: Kind[] = hint === 'refresh_token' ? ['refresh', 'access'] : ['access', 'refresh'];
  for (const kind of order) {
    if (kind === 'access') {
      const claims: TokenClaims | null = await deps.tokenStore.findAccessToken(token);
      if (claims === null) continue;
      // §2.1: the server "verifies whether the token was issued to the client making the
      // revocation request"; another client's token is left alone (and still answered 200).
      if (claims.clientId !== clientId) return 'other_client';
      // The refresh token issued with it stays usable (docs/revocation.md): revoking an access token
      // ends only that token, and RFC 7009 §2.1 leaves the refresh token's fate to the server.
      await deps.tokenStore.revokeAccessToken(token);
      return 'revoked_access';
    }
    // §2.1: revoking a refresh token SHOULD also invalidate the access tokens of the same grant:
    // the store revokes its whole family, also when it was rotated a moment ago, so that a
    // refresh in flight cannot outlive the revocation (docs/revocation.md).
    const outcome = await deps.tokenStore.revokeRefreshToken(token, clientId);
    if (outcome === 'revoked') return 'revoked_refresh';
    if (outcome === 'other_client') return 'other_client';
  }
  return 'unknown';
}
