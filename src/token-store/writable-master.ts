// Readiness of Redis as the service needs it: not "answers PING" but "takes writes". Every
// grant, rotation and revocation writes; a replica answers PING and GET but refuses them with
// READONLY, which is what a client pinned to a former master sees after a Sentinel failover.
import { Cluster, type Redis } from 'ioredis';

export type RedisReadiness = 'ok' | 'read-only' | 'unavailable';

/**
 * 'ok' when writes can succeed: for a single server, ROLE answers "master"; for a cluster,
 * CLUSTER INFO says cluster_state:ok (every slot served: https://redis.io/docs/latest/commands/cluster-info/)
 * and every master the client knows answers ROLE as a master. Rejects when a server cannot be
 * reached (the caller bounds the time).
 */
export async function writableMaster(client: Redis | Cluster): Promise<RedisReadiness> {
  if (client instanceof Cluster) {
    const info = await client.cluster('INFO');
    if (!/^cluster_state:ok\r?$/m.test(info)) return 'unavailable';
    const masters = client.nodes('master');
    if (masters.length === 0) return 'unavailable';
    // A master that just died is dropped from the client's nodes at once, while CLUSTER INFO says
    // ok until the cluster's node timeout: its slots, still owned by it, have no node to go to.
    const connected = new Set(masters.map((node) => `${node.options.host}:${node.options.port}`));
    if (client.slots.some((owners) => owners?.[0] !== undefined && !connected.has(owners[0]))) return 'unavailable';
    const roles = await Promise.all(masters.map(roleOf));
    return roles.every((role) => role === 'master') ? 'ok' : 'read-only';
  }
  return (await roleOf(client)) === 'master' ? 'ok' : 'read-only';
}

/** ROLE (https://redis.io/docs/latest/commands/role/): its first element is master, slave or sentinel. */
async function roleOf(redis: Redis): Promise<string> {
  try {
    const [role] = await redis.role();
    return String(role);
  } catch (err) {
    // Some managed offerings rename or forbid ROLE; INFO replication tells the same thing.
    if (!(err instanceof Error) || !/NOPERM|unknown command/i.test(err.message)) throw err;
    const info = await redis.info('replication');
    return /^role:(\w+)\r?$/m.exec(info)?.[1] ?? 'unknown';
  }
}
