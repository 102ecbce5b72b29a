// The Redis modes the suite can run on (docs/redis.md), from the servers scripts/test-services.sh
// starts: one server (TEST_REDIS_URL), a master under Sentinel (TEST_REDIS_SENTINELS +
// TEST_REDIS_SENTINEL_NAME) and a Cluster (TEST_REDIS_CLUSTER_NODES). A mode whose variables are
// absent carries a `skip` message. Each client gets a key prefix of its own, and its keys are
// deleted when the test ends, so tests can share the servers.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { lock } from 'proper-lockfile';
import type { Test } from 'tap';
import { type RedisClient, type RedisConnection, createRedisClient, waitUntilReady } from '../src/redis/connection.js';

export type RedisModeName = RedisConnection['mode'];

export interface RedisMode {
  mode: RedisModeName;
  /** How to reach it; undefined when the mode's servers are not configured. */
  connection: RedisConnection | undefined;
  /** The service's environment for this mode (REDIS_URL, or REDIS_SENTINELS…): for loadConfig or build(). */
  env: Record<string, string>;
  /** tap's `skip` option: false when available, else why not. */
  skip: string | false;
}

const nodes = (list: string) =>
  list.split(',').map((item) => {
    const [host = '', port = ''] = item.trim().split(':');
    return { host, port: Number(port) };
  });

function modes(env: NodeJS.ProcessEnv): RedisMode[] {
  const url = env.TEST_REDIS_URL;
  const sentinels = env.TEST_REDIS_SENTINELS;
  const name = env.TEST_REDIS_SENTINEL_NAME;
  const cluster = env.TEST_REDIS_CLUSTER_NODES;
  const absent = (what: string) => `${what} not set (source scripts/test-services.sh): skipped`;
  return [
    url
      ? { mode: 'standalone', connection: { mode: 'standalone', url }, env: { REDIS_URL: url }, skip: false }
      : { mode: 'standalone', connection: undefined, env: {}, skip: absent('TEST_REDIS_URL is') },
    sentinels && name
      ? {
          mode: 'sentinel',
          connection: { mode: 'sentinel', sentinels: nodes(sentinels), name },
          env: { REDIS_SENTINELS: sentinels, REDIS_SENTINEL_NAME: name },
          skip: false,
        }
      : { mode: 'sentinel', connection: undefined, env: {}, skip: absent('TEST_REDIS_SENTINELS and TEST_REDIS_SENTINEL_NAME are') },
    cluster
      ? { mode: 'cluster', connection: { mode: 'cluster', nodes: nodes(cluster) }, env: { REDIS_CLUSTER_NODES: cluster }, skip: false }
      : { mode: 'cluster', connection: undefined, env: {}, skip: absent('TEST_REDIS_CLUSTER_NODES is') },
  ];
}

/** Every mode, available or skipped: `for (const m of REDIS_MODES) t.test(m.mode, { skip: m.skip }, …)`. */
export const REDIS_MODES: readonly RedisMode[] = modes(process.env);

export function redisMode(mode: RedisModeName): RedisMode {
  return REDIS_MODES.find((m) => m.mode === mode) as RedisMode;
}

/** A key prefix no other test uses (letters, digits and a colon: no hash-tag braces). */
export function uniquePrefix(label = 't'): string {
  return `${label}${randomBytes(5).toString('hex')}:`;
}

export interface ModeClient {
  redis: RedisClient;
  /** This test's own key prefix. */
  prefix: string;
  connection: RedisConnection;
}

/**
 * A client of the service's own kind (createRedisClient) for `mode`, ready, with a unique key
 * prefix; at the end of `t` its keys are deleted and it is disconnected. Fails `t` when the mode
 * is not configured or not ready within 10 s.
 */
export async function connectRedis(
  t: Test,
  mode: RedisMode,
  overrides: Partial<Pick<RedisConnection, 'minReplicasAck' | 'username' | 'password'>> = {},
): Promise<ModeClient> {
  if (!mode.connection) throw new Error(`Redis ${mode.mode} is not configured: ${mode.skip}`);
  const connection = { ...mode.connection, ...overrides } as RedisConnection;
  const redis = createRedisClient(connection);
  const prefix = uniquePrefix();
  t.teardown(async () => {
    await deleteKeys(redis, prefix).catch(() => {});
    redis.disconnect();
  });
  if (!(await waitUntilReady(redis, 10_000))) throw new Error(`Redis ${mode.mode} not ready within 10 s`);
  return { redis, prefix, connection };
}

/** Deletes every key under `prefix`, on every master of a Cluster. */
export async function deleteKeys(redis: RedisClient, prefix: string): Promise<void> {
  const servers: Redis[] = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const server of servers) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      // One key at a time: on a Cluster node a multi-key command must stay in one slot.
      for (const key of keys) await server.unlink(key);
    } while (cursor !== '0');
  }
}

/** Resolves once `condition` holds (checked every 50 ms); fails after `ms`, naming `what`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

/**
 * Holds the shared Sentinel and Cluster servers for `t` alone, across test processes (tap runs
 * files in parallel): for tests that fail them over, kill or freeze nodes, or that must not see
 * that happen meanwhile. Waits up to 5 minutes for another holder; released at the end of `t`.
 */
export async function lockRedisServers(t: Test): Promise<void> {
  const release = await lock(join(tmpdir(), 'reseller-auth-test-redis-modes'), {
    realpath: false,
    stale: 60_000,
    update: 10_000,
    retries: { retries: 3000, minTimeout: 100, maxTimeout: 200 },
  });
  t.teardown(() => release());
  // The previous holder may still be restoring what it failed over.
  await waitUntil(healthy, 60_000, 'the Sentinel master to have its replica and every Cluster node to be up');
}

/** True when the Sentinel master has an online replica and every Cluster node is connected (for the modes configured). */
async function healthy(): Promise<boolean> {
  const ask = async (node: { host: string; port: number } | undefined, ...command: string[]) => {
    const redis = new Redis(node?.port ?? 0, node?.host ?? '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => {});
    try {
      return String(await redis.call(command[0] as string, ...command.slice(1)));
    } finally {
      redis.disconnect();
    }
  };
  try {
    const sentinel = redisMode('sentinel').connection;
    if (sentinel?.mode === 'sentinel') {
      const [host, port] = (await ask(sentinel.sentinels[0], 'SENTINEL', 'get-master-addr-by-name', sentinel.name)).split(',');
      const replication = await ask({ host: host as string, port: Number(port) }, 'INFO', 'replication');
      if (!/^slave0:.*state=online/m.test(replication)) return false;
    }
    const cluster = redisMode('cluster').connection;
    if (cluster?.mode === 'cluster') {
      if (!(await ask(cluster.nodes[0], 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
      const nodes = await ask(cluster.nodes[0], 'CLUSTER', 'NODES');
      if (/fail|disconnected/.test(nodes)) return false;
    }
    return true;
  } catch {
    return false;
  }
}
