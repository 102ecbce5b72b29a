// The seam between the password grant and brute-force protection (RFC 6749 §4.3.2: the server
// MUST protect the endpoint against brute force). The implementation lives in
// src/security/login-limiter.ts; the grant only reports attempts.
export interface LoginAttempt {
  username: string;
  clientId: string;
  ip: string;
}

export interface LoginGuard {
  /** Before any work: throws TooManyRequestsError when the address (or the client at it) is over its limit. */
  assertAddressAllowed(ip: string, clientId?: string): Promise<void>;
  /**
   * Before the password is verified: holds a slot in every counter of the attempt (waiting while
   * the attempts in flight could use up what is left of a budget), or throws TooManyRequestsError
   * when a counter's failures are at its limit. Exactly one of recordFailure, recordSuccess or
   * release follows.
   */
  assertAllowed(attempt: LoginAttempt): Promise<void>;
  /** A wrong password: one failure in every counter of the attempt. */
  recordFailure(attempt: LoginAttempt): Promise<void>;
  /** A correct password: counts nothing, and clears every counter but the user's daily cap. */
  recordSuccess(attempt: LoginAttempt): Promise<void>;
  /** The attempt had no outcome (a dependency failed): its slots are given back, nothing counted. */
  release(attempt: LoginAttempt): Promise<void>;
  /** A failed client authentication (invalid_client) counts against the address and the client at it. */
  recordClientFailure(clientId: string | undefined, ip: string): Promise<void>;
  /** A malformed request counts against the caller's address (docs/rate-limits.md). */
  recordMalformed(ip: string): Promise<void>;
}
