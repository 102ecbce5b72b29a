// At most one task at a time per key, with a bounded queue behind it: used so that the attempts
// against one client whose secret is still a slow legacy hash take at most one hashing thread
// between them, whoever sends them. The queue is first in, first out.
import { TooManyRequestsError } from '../errors.js';

export class KeyedGate {
  /** Present while a task for the key runs: the resolvers of the tasks waiting behind it. */
  readonly #waiting = new Map<string, (() => void)[]>();

  constructor(readonly maxWaiting: number) {}

  /**
   * Runs `task` once no other task for `key` runs; `waited` says whether it had to wait (what the
   * task read before may be stale). A full queue is refused at once with 429 (Retry-After: 1).
   */
  async run<T>(key: string, task: (waited: boolean) => Promise<T>): Promise<T> {
    const queue = this.#waiting.get(key);
    if (queue) {
      if (queue.length >= this.maxWaiting) throw new TooManyRequestsError(1);
      await new Promise<void>((resolve) => queue.push(resolve));
    } else {
      this.#waiting.set(key, []);
    }
    try {
      return await task(queue !== undefined);
    } finally {
      const next = this.#waiting.get(key)?.shift();
      // Handed over: the key stays busy for the next task; otherwise it is free.
      if (next) next();
      else this.#waiting.delete(key);
    }
  }

  /** Tasks running or waiting for `key` (tests). */
  load(key: string): number {
    const queue = this.#waiting.get(key);
    return queue ? queue.length + 1 : 0;
  }
}
