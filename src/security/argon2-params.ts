// argon2id with explicit parameters: OWASP's Password Storage Cheat Sheet minimum (m = 19 MiB,
// t = 2, p = 1). Shared by the hashing thread, which computes hashes, and the event loop, which
// only reads their parameters back (needsRehash).
import type { Options } from '@node-rs/argon2';

// @node-rs/argon2's Algorithm is a const enum, which isolated modules cannot import: 2 is Argon2id.
const ARGON2ID = 2;

export const ARGON2_PARAMS = Object.freeze({ algorithm: ARGON2ID, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } satisfies Options);

/** The PHC string prefix's parameters (RFC 9106 §3.1 names; version 0x13 = 19). */
const PHC_PARAMS = /^\$argon2id\$v=(\d+)\$([a-z]=\d+(?:,[a-z]=\d+)*)\$/;

/**
 * True unless the hash is argon2id, version 19, with exactly the current parameters — in either
 * order: the native `argon2` package (this service's hasher before @node-rs/argon2) writes `m=…,p=…,t=…`.
 */
export function needsRehash(hash: string): boolean {
  const match = PHC_PARAMS.exec(hash);
  if (match?.[1] !== '19') return true;
  const params = new Map((match[2] as string).split(',').map((pair) => pair.split('=') as [string, string]));
  return (
    params.size !== 3 ||
    params.get('m') !== String(ARGON2_PARAMS.memoryCost) ||
    params.get('t') !== String(ARGON2_PARAMS.timeCost) ||
    params.get('p') !== String(ARGON2_PARAMS.parallelism)
  );
}
