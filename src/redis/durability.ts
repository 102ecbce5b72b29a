// Durable writes: Redis replicates asynchronously, so a write the master acknowledged can be lost
// when a replica is promoted before it received it (Redis docs "Replication": "Redis uses by
// default asynchronous replication"). For a revocation that would bring a revoked token back to
// life after a failover. WAIT blocks the calling connection until every write it sent before was
// acknowledged by that many replicas, or the timeout passed (Redis docs, WAIT); it answers how
// many did. It counts writes of its own connection only, so it is sent on the connection that
// carried the writes: the client itself, or, on a Cluster, the node connection of the master that
// owns each key's slot.
import calculateSlot from 'cluster-key-slot';
import { Cluster, type Redis } from 'ioredis';
import { DependencyUnavailableError } from '../errors.js';
import { COMMAND_TIMEOUT_MS, type RedisClient, type RedisConnection, connectionOf } from './connection.js';

/**
 * Resolves once the writes this process already sent for `keys` are on at least the configured
 * number of replicas (REDIS_MIN_REPLICAS_ACK; by default 1 where the master has replicas under
 * Sentinel or Cluster, none on a standalone server, where it resolves at once without a round
 * trip). Throws DependencyUnavailableError (503) when fewer acknowledged within `timeoutMs`, which
 * is bounded by the command timeout. `keys` only matter on a Cluster (they name the masters to
 * ask; none: every master).
 *
 * WAIT holds its connection for up to `timeoutMs` while replicas lag, and commands sent behind it
 * on the same connection wait too: keep `timeoutMs` short.
 */
export async function confirmDurable(client: RedisClient, keys: string[], timeoutMs: number, minReplicas?: number): Promise<void> {
  // WAIT 0 would block for ever; above the command timeout the client gives up first.
  const timeout = Math.max(1, Math.min(Math.floor(timeoutMs), COMMAND_TIMEOUT_MS - 200));
  const configured = minReplicas ?? connectionOf(client)?.minReplicasAck;
  try {
    if (client instanceof Cluster) {
      await Promise.all(mastersOf(client, keys).map(({ node, replicas }) => waitFor(node, configured ?? (replicas > 0 ? 1 : 0), timeout)));
    } else {
      await waitFor(client, configured ?? (connectionOf(client)?.mode === 'sentinel' ? 1 : 0), timeout);
    }
  } catch (err) {
    if (err instanceof DependencyUnavailableError) throw err;
    throw new DependencyUnavailableError('token store', err);
  }
}

/**
 * Whether confirmDurable can send WAIT on this connection at all: with REDIS_MIN_REPLICAS_ACK ≥ 1,
 * or unset under Sentinel or Cluster (a master there may have replicas). Never on one server
 * without it, nor anywhere with it 0.
 */
export function mayWait(connection: RedisConnection): boolean {
  return connection.minReplicasAck === undefined ? connection.mode !== 'standalone' : connection.minReplicasAck > 0;
}

async function waitFor(connection: Redis, required: number, timeoutMs: number): Promise<void> {
  if (required <= 0) return;
  const acknowledged = Number(await connection.call('WAIT', required, timeoutMs));
  if (acknowledged < required) {
    throw new DependencyUnavailableError(
      'token store',
      new Error(`write acknowledged by ${acknowledged} of ${required} required replicas within ${timeoutMs} ms`),
    );
  }
}

/** The connection of each master owning one of `keys` (every master when there is none), and its replica count. */
function mastersOf(cluster: Cluster, keys: string[]): { node: Redis; replicas: number }[] {
  const byKey = new Map(cluster.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]));
  const owners = new Map<string, number>();
  if (keys.length === 0) {
    for (const owner of cluster.slots) if (owner?.[0]) owners.set(owner[0], owner.length - 1);
  } else {
    for (const key of keys) {
      const owner = cluster.slots[calculateSlot(key)];
      if (!owner?.[0]) throw new Error(`no master is known for the slot of ${key}`);
      owners.set(owner[0], owner.length - 1);
    }
  }
  return [...owners].map(([nodeKey, replicas]) => {
    const node = byKey.get(nodeKey);
    if (!node) throw new Error(`no connection to the master ${nodeKey}`);
    return { node, replicas };
  });
}
