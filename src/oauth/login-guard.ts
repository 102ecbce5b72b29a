// The seam between the password grant and brute-force protection (RFC 6749 §4.3.2: the server
// MUST protect the endpoint against brute force). The implementation lives in
// src/security/login-limiter.ts; the grant only reports attempts.
export interface LoginAttempt {
  username: string;
  clientId: string;
  ip: string;
}

export interface LoginGuard {
  /** Throws TooManyRequestsError when any counter for this attempt is over its limit. */
  assertAllowed(attempt: LoginAttempt): Promise<void>;
  recordFailure(attempt: LoginAttempt): Promise<void>;
  recordSuccess(attempt: LoginAttempt): Promise<void>;
  /** A malformed request counts against the caller's address (API.md). */
  recordMalformed(ip: string): Promise<void>;
}
