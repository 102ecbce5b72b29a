// The issued-token store: one interface, two implementations (Redis for production, in-process
// for the embedded default) that pass the same contract tests (test/token-store/token-store-contract.ts).
// Tokens are stored only under their SHA-256 (docs/configuration.md, "Storage"): a dump of the store yields no
// usable token. Every pair belongs to a family (one password grant and all its rotations) so that
// reuse of a rotated refresh token can revoke the family (RFC 9700 §4.14.2), and families are
// indexed per client so that a cut-off cascades.
//
// The revocation invariant (docs/revocation.md): once a cut-off or a revocation has answered, no
// token issued before it works, and no grant that started before it yields a working token.
// Two mechanisms hold it whatever the interleaving, on one instance or many:
//   - a revoked family leaves a tombstone, and saving a pair into a dead family is refused, so a
//     rotation or Passport exchange in flight cannot bring a revoked family back;
//   - each client has a generation, read when a grant starts (before the grant reads anything it
//     decides on) and bumped by every cut-off before it revokes; a save whose generation is no
//     longer current revokes the pair it just wrote and is refused.
import { hash, randomBytes } from 'node:crypto';

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

/** RFC 7009 revocation of a refresh token: whose it was decides whether anything happened. */
export type RefreshRevocation = 'revoked' | 'other_client' | 'unknown';

export interface TokenStore {
  /** The client's cut-off generation; a grant reads it first and hands it to savePair. */
  clientGeneration(clientId: string): Promise<string>;
  /**
   * Stores a pair and indexes its family under its client. Resolves false, leaving nothing
   * usable behind, when the family was revoked meanwhile or the client's generation is no
   * longer `generation` (a cut-off ran after the grant started).
   */
  savePair(pair: TokenPair, generation: string): Promise<boolean>;
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
  /**
   * RFC 7009 §2.1: revoking a refresh token revokes its whole family — also when it was just
   * rotated, so that a refresh in flight cannot outlive the revocation. Only `clientId`'s own.
   */
  revokeRefreshToken(token: string, clientId: string): Promise<RefreshRevocation>;
  /** Revokes the family and leaves a tombstone, so that no pair can be saved into it any more. */
  revokeFamily(familyId: string): Promise<void>;
  /**
   * A cut-off: bumps the client's generation, then revokes every family of the client (and so of
   * its one user). Returns how many families were revoked. Idempotent: safe to call again after a
   * failure part-way.
   */
  revokeClientTokens(clientId: string): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function hashToken(token: string): string {
  // One-shot crypto.hash: no Hash object per call on the introspection hot path.
  return hash('sha256', token, 'hex');
}

/** 128 random bits, base64url: 22 characters. */
export function newFamilyId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * A token of the family: `<family id>.<256 random bits, base64url>`. The family id is not a
 * secret (it only names the family, like a JWT's `jti`); carrying it lets the store find every
 * key of a family in one place — one Redis Cluster hash slot — from the token alone, so
 * introspection stays one round trip on a cluster too.
 */
export function familyToken(familyId: string): string {
  return `${familyId}.${randomBytes(32).toString('base64url')}`;
}

const FAMILY_ID = /^[A-Za-z0-9_-]{22}$/;
const TOKEN = /^([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}$/;

/** The family a token names, or null when it is not shaped like one of ours (then it is unknown). */
export function familyOf(token: string): string | null {
  return TOKEN.exec(token)?.[1] ?? null;
}

export function isFamilyId(value: string): boolean {
  return FAMILY_ID.test(value);
}

/** How long a revoked family's tombstone outlives it at least: longer than any grant in flight. */
export const FAMILY_TOMBSTONE_MS = 3_600_000;

/** A family id derived from something that names a grant elsewhere (a Passport refresh token's id). */
export function derivedFamilyId(seed: string): string {
  return hash('sha256', seed, 'base64url').slice(0, 22);
}
