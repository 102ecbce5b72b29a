// A marker in Redis that changes whenever a resource server loses access (docs/revocation.md,
// "Resource servers"). It lets an instance tell, with one small read that never touches
// PostgreSQL, whether the credentials it holds in process are still current: so introspection
// keeps answering while only the database is down, yet stops trusting its cache as soon as a
// removal it could not load has been made.
//
// The marker is a random value, not a counter: if Redis ever loses the key, an instance never
// mistakes a counter restarted at an old number for the state it loaded.
import { randomUUID } from 'node:crypto';
import { DependencyUnavailableError } from '../errors.js';
import type { RedisClient } from '../redis/connection.js';
import { confirmDurable } from '../redis/durability.js';

/** How long a new marker waits for a replica's acknowledgement (as a revocation does). */
const DURABLE_WAIT_MS = 1000;

export interface RegistryVersion {
  /** The current marker. Rejects with DependencyUnavailableError when Redis cannot answer. */
  read(): Promise<string>;
  /**
   * Replaces the marker; resolves once it is stored (on a replica where Redis has replicas, so a
   * failover cannot bring the old marker back). Rejects with DependencyUnavailableError otherwise.
   */
  bump(): Promise<void>;
}

export function createRedisRegistryVersion(redis: RedisClient, keyPrefix: string): RegistryVersion {
  const key = `${keyPrefix}resource-servers:version`;
  const unavailable = (err: unknown) => {
    throw err instanceof DependencyUnavailableError ? err : new DependencyUnavailableError('token store', err);
  };
  return {
    async read() {
      try {
        const current = await redis.get(key);
        if (current !== null) return current;
        // None yet (or lost): set one, so that instances can compare markers at all. NX: of two
        // instances doing this at once, both end up reading the same one.
        await redis.set(key, randomUUID(), 'NX');
        return (await redis.get(key)) ?? unavailable(new Error('marker vanished'));
      } catch (err) {
        return unavailable(err);
      }
    },
    async bump() {
      try {
        await redis.set(key, randomUUID());
        await confirmDurable(redis, [key], DURABLE_WAIT_MS);
      } catch (err) {
        unavailable(err);
      }
    },
  };
}
