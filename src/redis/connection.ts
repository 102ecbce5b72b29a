// The service's Redis connections, for the three ways Redis is run (docs/redis.md): one server
// (REDIS_URL), a master watched by Sentinel (REDIS_SENTINELS), or a Redis Cluster
// (REDIS_CLUSTER_NODES). Every Redis user of the service (token store, login limiter, change
// events) shares the one client built here, so every command has the same bounds.
import type { ConnectionOptions } from 'node:tls';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

export interface RedisNode {
  host: string;
  port: number;
}

/** Where Redis is and how to reach it: exactly one mode (config.ts refuses two). */
export type RedisConnection = (
  | { mode: 'standalone'; url: string }
  | { mode: 'sentinel'; sentinels: RedisNode[]; name: string; sentinelPassword?: string | undefined }
  | { mode: 'cluster'; nodes: RedisNode[] }
) & {
  username?: string | undefined;
  password?: string | undefined;
  /** TLS to every node (Sentinel: to the sentinels too). Standalone: the rediss:// scheme says it. */
  tls?: boolean | undefined;
  /**
   * Replicas that must acknowledge a write before confirmDurable() resolves; undefined: 1 where
   * the master has replicas under Sentinel or Cluster, 0 on a standalone server.
   */
  minReplicasAck?: number | undefined;
};

export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** Connection errors (one per failed attempt: the caller deduplicates). */
  onError?: (err: Error) => void;
  /** TLS settings merged into the defaults (a private CA: `{ ca }`); NODE_EXTRA_CA_CERTS works too. */
  tls?: ConnectionOptions;
}

/**
 * The bound on one command (docs/security.md: a Redis that does not answer is a 503 after ~2 s). A command
 * is sent once: no retry after a reconnection (maxRetriesPerRequest 0), which would double the
 * bound, and no queueing while disconnected (enableOfflineQueue false): the caller answers 503 at
 * once, and the client retries as RFC 6749 §5.2 and the `Retry-After` of docs/resellers.md tell it to.
 */
export const COMMAND_TIMEOUT_MS = 2000;

/** Reconnect forever with a capped back-off: recovery needs no restart. */
const backOff = (attempt: number) => Math.min(50 * 2 ** attempt, 2000);

/**
 * A master demoted to replica (a Sentinel failover seen through a connection that Sentinel did
 * not kill) answers writes with READONLY: reconnect, which asks Sentinel for the new master
 * (ioredis README "Reconnect on error"). 1, not 2: with no offline queue a command resent during
 * the reconnection would fail anyway; the caller gets its 503 at once and the next request goes
 * to the new master.
 */
const reconnectOnReadonly = (err: Error) => (err.message.startsWith('READONLY') ? 1 : false);

function nodeOptions(connection: RedisConnection, tls: ConnectionOptions | undefined): RedisOptions {
  return {
    // Batching concurrent GETs into one write is worth ~25% on the introspection path.
    enableAutoPipelining: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    // A connection whose peer went silent (a frozen server, a host gone without a reset) is
    // dropped once a command has waited this long, so the reconnection finds the live master
    // instead of every later command timing out on a dead socket.
    socketTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: 3000,
    retryStrategy: backOff,
    reconnectOnError: reconnectOnReadonly,
    ...(connection.username ? { username: connection.username } : {}),
    ...(connection.password ? { password: connection.password } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** The TLS options for a connection, when it uses TLS. */
function tlsOf(connection: RedisConnection, extra: ConnectionOptions | undefined): ConnectionOptions | undefined {
  const tls = connection.mode === 'standalone' ? connection.url.startsWith('rediss:') : connection.tls === true;
  return tls ? { ...extra } : undefined;
}

/** The connection each client was built for: confirmDurable() reads its mode and replica count. */
const connections = new WeakMap<RedisClient, RedisConnection>();

export function connectionOf(client: RedisClient): RedisConnection | undefined {
  return connections.get(client);
}

/** One server at `url` (redis:// or rediss://). */
export function createRedisClient(url: string, onError?: (err: Error) => void, options?: RedisClientOptions): Redis;
export function createRedisClient(connection: RedisConnection, onError?: (err: Error) => void, options?: RedisClientOptions): RedisClient;
export function createRedisClient(
  target: string | RedisConnection,
  onError: (err: Error) => void = () => {},
  options: RedisClientOptions = {},
): RedisClient {
  const connection: RedisConnection = typeof target === 'string' ? { mode: 'standalone', url: target } : target;
  const tls = tlsOf(connection, options.tls);
  let client: RedisClient;
  if (connection.mode === 'standalone') {
    client = new Redis(connection.url, nodeOptions(connection, tls));
  } else if (connection.mode === 'sentinel') {
    client = new Redis({
      ...nodeOptions(connection, tls),
      sentinels: connection.sentinels,
      name: connection.name,
      role: 'master',
      ...(connection.sentinelPassword ? { sentinelPassword: connection.sentinelPassword } : {}),
      ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
      sentinelRetryStrategy: backOff,
      sentinelCommandTimeout: COMMAND_TIMEOUT_MS,
      // Subscribes to +switch-master on the sentinels: a failover moves the connection to the
      // new master at once, not at the first failed command.
      failoverDetector: true,
    });
    // quit() ends the connection without closing the failover detector's connections to the
    // sentinels (ioredis 5.11 closes them in disconnect() only), which would keep the process alive.
    client.once('end', () => (client as Redis).disconnect());
  } else {
    const { enableOfflineQueue: _, retryStrategy: __, ...redisOptions } = nodeOptions(connection, tls);
    const clusterOptions: ClusterOptions = {
      redisOptions,
      // Reads go to masters: a replica may not have a revocation yet (docs/redis.md).
      scaleReads: 'master',
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      clusterRetryStrategy: backOff,
      // While a master fails over, its slots answer CLUSTERDOWN or the connection drops: retried
      // up to maxRedirections times, 100 ms apart, which bounds the wait to ~2 s as well.
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      maxRedirections: 16,
      slotsRefreshTimeout: COMMAND_TIMEOUT_MS,
      // With TLS the certificates name the hosts: connect to the names CLUSTER SLOTS reports as
      // they are (ioredis README "Special note: AWS ElastiCache Clusters with TLS").
      ...(tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    };
    client = new Cluster(connection.nodes, clusterOptions);
  }
  client.on('error', onError);
  connections.set(client, connection);
  return client;
}

export async function waitUntilReady(redis: RedisClient, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}
