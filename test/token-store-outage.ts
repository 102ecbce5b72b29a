// A token store outage for tests that need a revocation to fail: the real Redis connections
// dropped (PostgreSQL + Redis), or the in-process store's revocations failing as a dropped
// connection makes them fail. Returns what restores it.
import { DependencyUnavailableError } from '../src/errors.js';
import type { Services } from '../src/services.js';

export async function tokenStoreDown(services: Pick<Services, 'redis' | 'durableRedis' | 'tokenStore'>): Promise<() => Promise<void>> {
  const { redis, durableRedis, tokenStore } = services;
  if (redis && durableRedis) {
    // One connection or two (services.ts: two where writes wait for replicas).
    const connections = [...new Set([redis, durableRedis])];
    for (const connection of connections) connection.disconnect();
    return async () => {
      await Promise.all(connections.map((connection) => connection.connect()));
    };
  }
  const original = tokenStore.revokeClientTokens;
  tokenStore.revokeClientTokens = async (): Promise<number> => {
    throw new DependencyUnavailableError('token store', new Error('connection refused'));
  };
  return async () => {
    tokenStore.revokeClientTokens = original;
  };
}

/**
 * An admin call whose revocation after its commit fails (docs/revocation.md): `beforeCommit` runs
 * between the call's first revocation and its update (a login there saw the old row), and every
 * revocation after the update throws as an outage would. Returns what restores both.
 */
export function failRevocationAfterCommit(services: Pick<Services, 'resellers' | 'tokenStore'>, beforeCommit: () => Promise<void>): () => void {
  const { resellers, tokenStore } = services;
  const update = resellers.update;
  const revoke = tokenStore.revokeClientTokens;
  let committed = false;
  resellers.update = async (...args) => {
    await beforeCommit();
    const updated = await update(...args);
    committed = true;
    return updated;
  };
  tokenStore.revokeClientTokens = async (clientId) => {
    if (committed) throw new DependencyUnavailableError('token store', new Error('connection refused'));
    return revoke.call(tokenStore, clientId);
  };
  return () => {
    resellers.update = update;
    tokenStore.revokeClientTokens = revoke;
  };
}
