// The issued-token store: one interface, two implementations (Redis for production, in-process
// for the embedded default) that pass the same contract tests (test/token-store/contract.ts).
// Tokens are stored only under their SHA-256 (API.md "Storage"): a dump of the store yields no
// usable token. Every pair belongs to a family (one password grant and all its rotations) so that
// reuse of a rotated refresh token can revoke the family (RFC 9700 §4.14.2), and families are
// indexed per user and per client so that revocation cascades.
import { hash } from 'node:crypto';

/** What introspection needs to answer for an access token (RFC 7662 §2.2), and nothing secret. */
export interface TokenClaims {
  jti: string;
  clientId: string;
  userId: string;
  username: string;
  resellerId: string;
  scope: string;
  /** Seconds since the epoch. */
  iat: number;
  /** Seconds since the epoch. */
  exp: number;
  familyId: string;
}

export interface IssuedToken {
  token: string;
  claims: TokenClaims;
}

export interface TokenPair {
  access: IssuedToken;
  refresh?: IssuedToken;
}

export type ConsumeResult = { status: 'consumed'; claims: TokenClaims } | { status: 'reused'; familyId: string } | { status: 'unknown' };

export interface TokenStore {
  /** Stores a pair and indexes its family; resolves only once it is stored. */
  savePair(pair: TokenPair): Promise<void>;
  /** The hot path: one round trip. Null when unknown, expired or revoked. */
  findAccessToken(token: string): Promise<TokenClaims | null>;
  findRefreshToken(token: string): Promise<TokenClaims | null>;
  /**
   * Atomically uses up a refresh token for rotation: the refresh token and the access token
   * issued with it stop working at once. Presenting an already-used refresh token revokes its
   * whole family (RFC 9700 §4.14.2) and answers "reused".
   */
  consumeRefreshToken(token: string): Promise<ConsumeResult>;
  /** RFC 7009: revoking an access token leaves its refresh token usable. */
  revokeAccessToken(token: string): Promise<TokenClaims | null>;
  /** RFC 7009 §2.1: revoking a refresh token also revokes the access token issued with it. */
  revokeRefreshToken(token: string): Promise<TokenClaims | null>;
  revokeFamily(familyId: string): Promise<void>;
  /** Revokes every token of the user; returns how many families were revoked. */
  revokeUserTokens(userId: string): Promise<number>;
  revokeClientTokens(clientId: string): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function hashToken(token: string): string {
  // One-shot crypto.hash: no Hash object per call on the introspection hot path.
  return hash('sha256', token, 'hex');
}
