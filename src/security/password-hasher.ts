// Password hashing: argon2id with explicit parameters (OWASP's minimum m=19 MiB, t=2, p=1) from
// the native `argon2` package, whose work runs on libuv's thread pool, not the event loop.
// Hashing concurrency is bounded so that a login storm cannot take every core from the
// introspection hot path (issue 4). Passport's bcrypt hashes ($2y$) are verified with the native
// `bcrypt` package and reported as needing a re-hash.
import argon2 from 'argon2';
import bcrypt from 'bcrypt';
import pLimit from 'p-limit';

export const ARGON2_PARAMS = { type: argon2.argon2id, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies; an unknown user is verified against a dummy hash so both cost the same. */
  verify(hash: string | undefined, password: string): Promise<boolean>;
  /** True when the hash is not argon2id with the current parameters (e.g. imported bcrypt). */
  needsRehash(hash: string): boolean;
  /** How many verifications ran (tests count them; metrics export them). */
  readonly verifications: number;
}

export async function createPasswordHasher(concurrency: number): Promise<PasswordHasher> {
  const limit = pLimit(concurrency);
  // Not a real password: only there so that an unknown e-mail costs one verification too.
  const dummyHash = await argon2.hash('dummy password that never matches', ARGON2_PARAMS);
  let verifications = 0;
  return {
    hash: (password) => limit(() => argon2.hash(password, ARGON2_PARAMS)),
    async verify(hash, password) {
      verifications += 1;
      const target = hash ?? dummyHash;
      const matches = await limit(() => verifyAny(target, password));
      return hash !== undefined && matches;
    },
    needsRehash(hash) {
      return !hash.startsWith('$argon2id$') || argon2.needsRehash(hash, ARGON2_PARAMS);
    },
    get verifications() {
      return verifications;
    },
  };
}

async function verifyAny(hash: string, password: string): Promise<boolean> {
  if (hash.startsWith('$argon2')) return argon2.verify(hash, password).catch(() => false);
  // Laravel writes $2y$; the algorithm is identical to $2b$ (only PHP's historic bug fix differs).
  if (/^\$2[aby]\$/.test(hash)) return bcrypt.compare(password, hash.replace(/^\$2y\$/, '$2b$')).catch(() => false);
  return false;
}
