// A connection for SUBSCRIBE, next to the client it belongs to: a subscribed connection can run
// no other command (Redis docs, "Pub/Sub"). On one server or under Sentinel it is a duplicate of
// the client (same server, or the same Sentinel lookup, so it follows a failover: Sentinel kills
// the clients of a demoted master, and the reconnection asks it for the new one). On a Cluster,
// a PUBLISH reaches every node over the cluster bus (Redis Cluster specification, "Pub/Sub"), so
// the subscriber is one connection to any node; when that node goes away the next known node is
// used instead. ioredis's own cluster subscriber does the same but re-subscribes silently, and
// the caller must learn of every new connection: messages sent in between are lost.
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisClient } from './connection.js';

export interface Subscriber {
  /** The current connection (not necessarily ready). */
  current(): Redis | undefined;
  close(): void;
}

const backOff = (attempt: number) => Math.min(50 * 2 ** attempt, 2000);

/**
 * `onConnection` runs once for every connection the subscriber opens, before it connects: attach
 * the 'message' and 'ready' handlers there, and (re)subscribe on every 'ready'. No offline queue
 * and no auto-resubscribe on it: a SUBSCRIBE queued while disconnected may be dropped, so the
 * caller subscribes once Redis has confirmed the connection.
 */
export function createSubscriber(client: RedisClient, onConnection: (connection: Redis) => void, connectionName?: string): Subscriber {
  if (!(client instanceof Cluster)) {
    const connection = client.duplicate({ enableOfflineQueue: false, autoResubscribe: false, enableAutoPipelining: false, ...named(connectionName) });
    // Connection errors are already reported by the client, to the same server.
    connection.on('error', () => {});
    onConnection(connection);
    return { current: () => connection, close: () => connection.disconnect() };
  }
  return clusterSubscriber(client, onConnection, connectionName);
}

/** CLIENT SETNAME: the connection is told apart in CLIENT LIST. */
const named = (connectionName: string | undefined) => (connectionName ? { connectionName } : {});

function clusterSubscriber(cluster: Cluster, onConnection: (connection: Redis) => void, connectionName: string | undefined): Subscriber {
  let connection: Redis | undefined;
  let attempt = 0;
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const connect = () => {
    timer = undefined;
    if (closed) return;
    const nodes = cluster.nodes('all');
    const node = nodes[next++ % Math.max(nodes.length, 1)];
    if (!node) {
      // The cluster has not learnt its nodes yet.
      timer = setTimeout(connect, backOff(attempt++));
      return;
    }
    const options: RedisOptions = {
      ...node.options,
      // Not retried on the same node: the next attempt picks another one.
      retryStrategy: () => null,
      enableOfflineQueue: false,
      autoResubscribe: false,
      enableAutoPipelining: false,
      readOnly: false,
      lazyConnect: false,
      ...named(connectionName),
    };
    const current = new Redis(options);
    connection = current;
    current.on('error', () => {});
    current.on('ready', () => {
      attempt = 0;
    });
    current.once('end', () => {
      if (!closed && connection === current) timer = setTimeout(connect, backOff(attempt++));
    });
    onConnection(current);
  };
  if (cluster.status === 'ready') connect();
  else cluster.once('ready', connect);
  return {
    current: () => connection,
    close() {
      closed = true;
      cluster.off('ready', connect);
      if (timer) clearTimeout(timer);
      connection?.disconnect();
    },
  };
}
