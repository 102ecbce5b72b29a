// RFC 7662 §2.2 answers, built for the hot path: one token-store round trip, no database, no
// slow hash; the inactive answer is one constant, and the active one is serialised by a
// hand-written function (no schema walk per response).
import { type LegacyAccessTokens, looksLikeJwt } from '../passport/legacy-access-tokens.js';
import type { TokenClaims, TokenStore } from '../token-store/token-store.js';

export interface ActiveIntrospection {
  active: true;
  token_type: 'Bearer';
  scope: string;
  client_id: string;
  username: string;
  sub: string;
  reseller_id: string;
  exp: number;
  iat: number;
  iss: string;
  jti: string;
}

export type IntrospectionAnswer = ActiveIntrospection | { active: false };

/** RFC 7662 §2.2: "the authorization server MUST NOT include any additional information" for an inactive token. */
export const INACTIVE: IntrospectionAnswer = Object.freeze({ active: false as const });
const INACTIVE_JSON = '{"active":false}';

/**
 * Longer than any token this service (or, later, Passport's RS256 JWTs) issues: such a value is
 * inactive without costing a hash or a store round trip. RFC 7662 §2.2 leaves no room for a
 * 400 here: a token the server cannot make sense of is simply not active.
 */
export const MAX_TOKEN_LENGTH = 4096;

export interface Introspection {
  /** Rejects with DependencyUnavailableError when the token store cannot answer (never "inactive"). */
  introspect(token: string): Promise<IntrospectionAnswer>;
  serialize(answer: IntrospectionAnswer): string;
}

export function createIntrospection(deps: { tokenStore: TokenStore; issuer: string; legacy?: LegacyAccessTokens }): Introspection {
  const { tokenStore, issuer, legacy } = deps;
  const issuerJson = JSON.stringify(issuer);
  // The token store hands out one frozen claims object per stored record while it is read again
  // and again (token-store/redis-token-store.ts); its answer and that answer's JSON are built once.
  const answers = new WeakMap<TokenClaims, ActiveIntrospection>();
  const serialized = new WeakMap<ActiveIntrospection, string>();

  const answer = (claims: TokenClaims): ActiveIntrospection => {
    let built = answers.get(claims);
    if (built === undefined) {
      built = build(claims);
      if (Object.isFrozen(claims)) answers.set(claims, built);
    }
    return built;
  };

  const build = (claims: TokenClaims): ActiveIntrospection =>
    Object.freeze({
      active: true,
      token_type: 'Bearer',
      scope: claims.scope,
      client_id: claims.clientId,
      username: claims.username,
      sub: claims.userId,
      reseller_id: claims.resellerId,
      exp: claims.exp,
      iat: claims.iat,
      iss: issuer,
      jti: claims.jti,
    });

  // Member order as docs/resource-servers.md shows it. Strings go through JSON.stringify for escaping; numbers
  // are integers from our own store.
  const toJson = (a: ActiveIntrospection): string =>
    `{"active":true,"token_type":"Bearer","scope":${JSON.stringify(a.scope)},"client_id":${JSON.stringify(a.client_id)}` +
    `,"username":${JSON.stringify(a.username)},"sub":${JSON.stringify(a.sub)},"reseller_id":${JSON.stringify(a.reseller_id)}` +
    `,"exp":${Math.trunc(a.exp)},"iat":${Math.trunc(a.iat)},"iss":${a.iss === issuer ? issuerJson : JSON.stringify(a.iss)},"jti":${JSON.stringify(a.jti)}}`;

  return {
    async introspect(token) {
      if (token.length > MAX_TOKEN_LENGTH) return INACTIVE;
      // While the Passport transition is on (docs/passport-migration.md), a JWT (ours never contain a dot) goes to
      // the legacy path alone; no store round trip, and ours cost one string scan more.
      if (legacy && looksLikeJwt(token)) {
        const legacyClaims = await legacy.verify(token);
        return legacyClaims ? answer(legacyClaims) : INACTIVE;
      }
      // Refresh tokens live under another key: looking up access tokens only answers them
      // inactive (docs/resource-servers.md), whatever token_type_hint says (RFC 7662 §2.1 lets the server ignore it).
      const claims = await tokenStore.findAccessToken(token);
      // The store's TTL is the expiry; checking `exp` as well guards against clock skew between
      // this host and Redis (RFC 7662 §2.2: an expired token is not active).
      if (claims === null || claims.exp * 1000 <= Date.now()) return INACTIVE;
      return answer(claims);
    },

    serialize(a) {
      if (!a.active) return INACTIVE_JSON;
      // Every active answer is frozen (build), so its JSON can be kept with it.
      let json = serialized.get(a);
      if (json === undefined) {
        json = toJson(a);
        serialized.set(a, json);
      }
      return json;
    },
  };
}
