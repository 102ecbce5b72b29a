// The password-hashing thread (a piscina worker; password-hasher.ts owns the pool). Hashes are
// computed synchronously on this thread, never on libuv's thread pool, so that this thread's
// scheduling priority is the hashing's: at a lower priority than the event loop, a login storm
// takes only the CPU that introspection leaves (docs/scaling.md; bench/README.md has the measurements).
import { setPriority } from 'node:os';
import { hashSync, verifySync } from '@node-rs/argon2';
import bcrypt from 'bcrypt';
import { workerData } from 'piscina';
import { ARGON2_PARAMS } from './argon2-params.js';

export type HashingTask = { op: 'hash'; password: string } | { op: 'verify'; hash: string; password: string };

const { niceness } = workerData as { niceness: number };
// setpriority(2) on Linux: the nice value is a per-thread attribute, and PRIO_PROCESS with id 0
// (what os.setPriority does) changes the calling thread only, so the event loop keeps its own.
// Elsewhere it would change the whole process, so it is left alone there. Raising one's own nice
// value needs no privilege; a failure fails the pool's start-up, not a login.
if (process.platform === 'linux' && niceness > 0) setPriority(niceness);

export default function run(task: HashingTask): string | boolean {
  if (task.op === 'hash') return hashSync(task.password, ARGON2_PARAMS);
  return verifyAny(task.hash, task.password);
}

function verifyAny(hash: string, password: string): boolean {
  try {
    if (hash.startsWith('$argon2')) return verifySync(hash, password);
    // Laravel writes $2y$; the algorithm is identical to $2b$ (only PHP's historic bug fix differs).
    if (/^\$2[aby]\$/.test(hash)) return bcrypt.compareSync(password, hash.replace(/^\$2y\$/, '$2b$'));
  } catch {
    // A stored value that is not a well-formed hash verifies nothing.
  }
  return false;
}
