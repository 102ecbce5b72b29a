// The @node-oauth/oauth2-server model: the library's view of our repositories and token store.
// One model per request, bound to the caller's context, because the IP allow-list must be
// checked right after the client authenticates (docs/resellers.md) and the library passes no request.
import { randomUUID } from 'node:crypto';
import type OAuth2Server from '@node-oauth/oauth2-server';
import { InvalidCredentialsError, InvalidRefreshTokenError, UnauthorizedClientError } from '../errors.js';
import type { ClientsRepository, OAuthClientRecord } from '../repositories/clients-repository.js';
import type { UserRecord, UsersRepository } from '../repositories/users-repository.js';
import { canonicalAddress, isAllowed } from '../security/networks.js';
import type { PasswordHasher } from '../security/password-hasher.js';
import type { SecretBox } from '../security/secret-box.js';
import type { TokenClaims, TokenStore } from '../token-store/token-store.js';
import { authenticateClientSecret, parseClientId } from './client-credentials.js';
import type { LoginGuard } from './login-guard.js';
import type { LegacyRefreshTokens } from '../passport/legacy-refresh-tokens.js';
import { resolveScopes } from './scopes.js';

export interface TokenModelDeps {
  clients: ClientsRepository;
  users: UsersRepository;
  tokenStore: TokenStore;
  hasher: PasswordHasher;
  secretBox: SecretBox;
  scopes: readonly string[];
  /** RFC 6749 §4.3.2: required, so that no password grant can run unprotected. */
  loginGuard: LoginGuard;
  /** Passport refresh tokens exchangeable once (docs/passport-migration.md), while the transition is configured. */
  legacyRefreshTokens?: LegacyRefreshTokens;
  onPasswordRehashFailed?: (err: unknown) => void;
}

export interface RequestContext {
  /** The caller's address as Fastify resolved it under TRUSTED_PROXIES. */
  ip: string;
  /**
   * The generation of the client the request names, already being read (the route reads it in
   * the same round trip as the address check): used when the client that authenticates is that one.
   */
  generation?: { clientId: string; value: Promise<string> };
}

/** What the model knows of the request besides the caller's context. */
export interface ModelContext extends RequestContext {
  /** A password grant's username: its user is read in the same statement as its client. */
  username?: string;
}

export interface AppClient extends OAuth2Server.Client {
  id: string;
  grants: string[];
  record: OAuthClientRecord;
  /** The client's cut-off generation when this request started (token-store.ts). */
  generation: string;
}

export interface AppUser extends OAuth2Server.User {
  id: string;
  email: string;
  resellerId: string;
}

export interface SavedToken extends OAuth2Server.Token {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken?: string;
  scope?: string[];
  familyId: string;
}

export type TokenModel = ReturnType<typeof createTokenModel>;

const toUser = (user: UserRecord): AppUser => ({ id: String(user.id), email: user.email, resellerId: user.resellerId });

export function createTokenModel(deps: TokenModelDeps, context: ModelContext) {
  /** The password grant's user, read with its client (getClient) for getUser: by lower-cased e-mail. */
  let userRead: { email: string; user: UserRecord | null } | undefined;
  return {
    context,
    tokenStore: deps.tokenStore,
    loginGuard: deps.loginGuard,
    legacyRefreshTokens: deps.legacyRefreshTokens,

    /** The refresh grant re-reads the user: one disabled meanwhile gets no new tokens. */
    async findActiveUser(userId: string, client: AppClient): Promise<AppUser | null> {
      const user = await deps.users.findById(Number(userId));
      return user?.active && user.clientId === client.record.id ? toUser(user) : null;
    },

    async getClient(clientId: string, clientSecret: string): Promise<AppClient | false> {
      const id = parseClientId(clientId);
      // Read before anything the grant decides on (the client row, the user row, the refresh
      // token): a cut-off that commits after these reads has bumped it by the time the pair is
      // saved, and the save is refused (docs/revocation.md).
      const prefetched = context.generation?.clientId === String(id) ? context.generation.value : undefined;
      const generation = id === null ? '0' : await (prefetched ?? deps.tokenStore.clientGeneration(String(id)));
      let record: OAuthClientRecord | null = null;
      if (id !== null && context.username !== undefined) {
        // One statement for both (the same work whether either exists): the user is read before
        // the attempt takes its slots, but nothing is decided on it until its password is verified.
        const read = await deps.clients.findWithUser(id, context.username);
        record = read.client;
        userRead = { email: context.username.toLowerCase(), user: read.user };
      } else if (id !== null) {
        record = await deps.clients.findById(id);
      }
      // Same work for an unknown, disabled or wrong-secret client (client-credentials.ts).
      const authenticated = await authenticateClientSecret(record, clientSecret, deps, context.ip);
      if (!record || !authenticated) return false;
      // Only now, with the client authenticated, may the caller learn about its networks.
      if (!isAllowed(context.ip, record.allowedNetworks)) {
        throw new UnauthorizedClientError(`The client is not allowed to request tokens from ${canonicalAddress(context.ip)}.`);
      }
      return { id: String(record.id), grants: record.grants, record, generation };
    },

    /**
     * Exactly one password verification whatever the outcome: an unknown e-mail is verified
     * against a dummy hash, so response times do not reveal which e-mails exist.
     */
    async getUser(username: string, password: string, client: AppClient): Promise<AppUser | false> {
      // Read with the client, for the username the request carries (getClient): the library asks
      // for the client first, and the grant's username is that one.
      if (userRead?.email !== username.toLowerCase()) throw new Error('the password grant reads its user with its client');
      const { user } = userRead;
      const valid = await deps.hasher.verify(user?.passwordHash, password);
      // A reseller's client authenticates only its own reseller's user, refused as a wrong password
      // would be (docs/resellers.md, "Request").
      if (!user || !valid || !user.active || user.clientId !== client.record.id) return false;
      if (deps.hasher.needsRehash(user.passwordHash)) {
        // An imported bcrypt hash becomes argon2id at the first successful login (docs/passport-migration.md).
        const upgraded = await deps.hasher.hash(password);
        await deps.users.upgradePasswordHash(user.id, user.passwordHash, upgraded).catch(deps.onPasswordRehashFailed);
      }
      return toUser(user);
    },

    async validateScope(_user: AppUser | null, _client: AppClient, scope?: string[]): Promise<string[]> {
      return resolveScopes(scope, deps.scopes);
    },

    /**
     * Stores the pair the grant generated (AppGrant.issue): resolves only once it is stored (a
     * token is never handed out unless stored), and refuses it when its family was revoked or the
     * client cut off since the request started. `token.continues` marks a rotation or a Passport
     * exchange, whose refusal reads as a revoked refresh token.
     */
    async saveToken(token: OAuth2Server.Token, client: AppClient, user: AppUser): Promise<SavedToken> {
      const familyId = String(token.familyId);
      const iat = Math.floor(Date.now() / 1000);
      const accessTokenExpiresAt = token.accessTokenExpiresAt ?? new Date();
      const claims = (exp: Date): TokenClaims => ({
        jti: randomUUID(),
        clientId: client.id,
        userId: user.id,
        username: user.email,
        resellerId: user.resellerId,
        scope: (token.scope ?? []).join(' '),
        iat,
        exp: Math.floor(exp.getTime() / 1000),
        familyId,
      });
      const saved = await deps.tokenStore.savePair(
        {
          access: { token: token.accessToken, claims: claims(accessTokenExpiresAt) },
          refresh:
            token.refreshToken && token.refreshTokenExpiresAt
              ? { token: token.refreshToken, claims: claims(token.refreshTokenExpiresAt) }
              : undefined,
        },
        client.generation,
      );
      if (!saved) throw token.continues ? new InvalidRefreshTokenError('Token has been revoked') : new InvalidCredentialsError();
      return { ...token, accessTokenExpiresAt, client, user, familyId };
    },

    // The library's PasswordModel type requires it (for its authenticate handler, which this
    // service does not use: resource servers introspect). Kept correct rather than a stub.
    async getAccessToken(accessToken: string): Promise<OAuth2Server.Token | false> {
      const claims = await deps.tokenStore.findAccessToken(accessToken);
      if (!claims) return false;
      return {
        accessToken,
        accessTokenExpiresAt: new Date(claims.exp * 1000),
        scope: claims.scope ? claims.scope.split(' ') : [],
        client: { id: claims.clientId, grants: [] },
        user: { id: claims.userId, email: claims.username, resellerId: claims.resellerId },
      };
    },
  };
}
