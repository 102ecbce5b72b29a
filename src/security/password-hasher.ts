// Password hashing: argon2id (argon2-params.ts) on a pool of HASH_CONCURRENCY threads, each at
// HASH_NICENESS (hashing-worker.ts), never on the event loop or libuv's thread pool. The pool
// bounds how many hashes run at once, and the lower priority means that when the CPUs are all
// busy the event loop comes first: a login storm cannot starve the introspection hot path
// (docs/scaling.md, bench/README.md "Password hashes"). Passport's bcrypt hashes ($2y$) are
// verified there too and reported as needing a re-hash.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { needsRehash } from './argon2-params.js';
import type { HashingTask } from './hashing-worker.js';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Verifies; an unknown user is verified against a dummy hash so both cost the same. */
  verify(hash: string | undefined, password: string): Promise<boolean>;
  /** True when the hash is not argon2id with the current parameters (e.g. imported bcrypt). */
  needsRehash(hash: string): boolean;
  /** How many verifications ran (tests count them; metrics export them). */
  readonly verifications: number;
  /** Stops the hashing threads once the hashes in flight are done. */
  close(): Promise<void>;
}

export interface PasswordHasherOptions {
  /** Hashes computed at once: the number of hashing threads (HASH_CONCURRENCY). */
  concurrency: number;
  /** The hashing threads' nice value, 0–19 (HASH_NICENESS); 0 leaves them at the event loop's priority. */
  niceness: number;
}

// The worker beside this module: hashing-worker.js under dist/, hashing-worker.ts when the
// sources run through tsx (the tests), whose loader the worker threads inherit.
const WORKER = new URL(`./hashing-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

export async function createPasswordHasher(options: PasswordHasherOptions): Promise<PasswordHasher> {
  const pool = new Piscina({
    filename: WORKER,
    // Started up front and kept: a thread's start-up (~30 ms) stays out of the first logins.
    minThreads: options.concurrency,
    maxThreads: options.concurrency,
    idleTimeout: Number.POSITIVE_INFINITY,
    workerData: { niceness: options.niceness },
    // A hash is tens of milliseconds of CPU: nothing to gain from timing each one.
    recordTiming: false,
  });
  const run = <T extends string | boolean>(task: HashingTask): Promise<T> => pool.run(task) as Promise<T>;
  try {
    // Not a real password: only there so that an unknown e-mail costs one verification too. It
    // also proves the threads start (and set their priority) before the service says it is up.
    const dummyHash = await run<string>({ op: 'hash', password: 'dummy password that never matches' });
    let verifications = 0;
    return {
      hash: (password) => run<string>({ op: 'hash', password }),
      async verify(hash, password) {
        verifications += 1;
        const matches = await run<boolean>({ op: 'verify', hash: hash ?? dummyHash, password });
        return hash !== undefined && matches;
      },
      needsRehash,
      get verifications() {
        return verifications;
      },
      close: () => pool.close(),
    };
  } catch (err) {
    await pool.destroy();
    throw err;
  }
}

/**
 * The same hasher, started by its first hash or verification instead of up front: for the ops
 * CLI, where most commands never hash and a thread's start with the dummy hash would be most of
 * a short command's time. The server starts its pool up front (createPasswordHasher).
 */
export function startedOnFirstUse(start: () => Promise<PasswordHasher>): PasswordHasher {
  let started: Promise<PasswordHasher> | undefined;
  const hasher = () => {
    started ??= start();
    return started;
  };
  let verifications = 0;
  return {
    hash: async (password) => (await hasher()).hash(password),
    async verify(hash, password) {
      verifications += 1;
      return (await hasher()).verify(hash, password);
    },
    needsRehash,
    get verifications() {
      return verifications;
    },
    async close() {
      // A start that failed left nothing to close (createPasswordHasher cleans up after itself).
      await (await started?.catch(() => undefined))?.close();
    },
  };
}
