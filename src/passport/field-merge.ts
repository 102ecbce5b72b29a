// The import's three-way merge, field by field (idempotent, and conflicts are reported,
// never silently overwritten). Each imported row remembers a digest of every Passport field as it
// was last imported. On the next run:
//
//   Passport unchanged since the last import       → ours stays as it is (an admin edit here, or
//                                                     the argon2id re-hash after a login, is kept)
//   ours is the login's re-hash of the imported    → counts as unchanged: the password is the one
//   hash (PASSWORD_REHASH_KEY below)                 imported, only its hash moved to argon2id
//   Passport changed, ours still as last imported  → take Passport's value
//   Passport changed, ours changed to the same     → only the digest is brought up to date
//   both changed, differently                      → conflict (or --prefer passport|local)
//
// Digests, not values: a client secret or password hash must not be copied into another column.
import { createHash } from 'node:crypto';

export type Prefer = 'fail' | 'passport' | 'local';

export type FieldDigests = Record<string, string>;

export type MergeOutcome = 'keep' | 'update' | 'record' | 'conflict';

export function fieldDigest(field: string, value: string): string {
  return createHash('sha256').update(`${field}\n${value}`).digest('base64url');
}

/**
 * `passportDigest`: the field's digest now; `lastDigest`: as last imported (undefined when never
 * recorded); `localDigest`: of our current value.
 */
export function mergeField(passportDigest: string, lastDigest: string | undefined, localDigest: string, prefer: Prefer): MergeOutcome {
  if (passportDigest === lastDigest) return 'keep';
  if (localDigest === passportDigest) return 'record';
  if (lastDigest === undefined || localDigest === lastDigest) return 'update';
  if (prefer === 'passport') return 'update';
  if (prefer === 'local') return 'record';
  return 'conflict';
}

/**
 * A login re-hashes an imported bcrypt hash to argon2id: same password, new hash. It records
 * `rehashMarker(newHash)` under this key of the row's digests (users-repository.ts), so that the
 * next import can tell that re-hash from a password changed here.
 */
export const PASSWORD_REHASH_KEY = 'passwordRehash';

export function rehashMarker(newHash: string): string {
  return fieldDigest('password', newHash);
}

/** The digest the merge compares for our password: as last imported when ours is only its re-hash. */
export function localPasswordDigest(currentHash: string, last: FieldDigests): string {
  const current = fieldDigest('password', currentHash);
  const rehash = last[PASSWORD_REHASH_KEY];
  return rehash !== undefined && rehash === current && last.password !== undefined ? last.password : current;
}

/** Reads a stored digest object defensively (it is JSON from the database). */
export function storedDigests(value: unknown): FieldDigests {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const out: FieldDigests = {};
  for (const [key, digest] of Object.entries(value)) if (typeof digest === 'string') out[key] = digest;
  return out;
}
