// The service's shared resources, created once per process and used by both listeners (the
// public port and the internal admin port are two Fastify instances over the same storage: an
// embedded PGlite directory can be opened by one handle only).
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { LoginGuard } from './oauth/login-guard.js';
import { type Database, openDatabase } from './db/database.js';
import { type ChangeEvents, createLocalEvents, createRedisEvents } from './events.js';
import { type Metrics, createMetrics } from './metrics.js';
import { type ClientsRepository, createClientsRepository } from './repositories/clients-repository.js';
import { type ResellersRepository, createResellersRepository } from './repositories/resellers-repository.js';
import { type ResourceServersRepository, createResourceServersRepository } from './repositories/resource-servers-repository.js';
import { type UsersRepository, createUsersRepository } from './repositories/users-repository.js';
import { type PasswordHasher, createPasswordHasher } from './security/password-hasher.js';
import { SecretBox } from './security/secret-box.js';
import { MemoryTokenStore } from './token-store/memory-token-store.js';
import { RedisTokenStore, createRedisClient, waitUntilReady } from './token-store/redis-token-store.js';
import type { TokenStore } from './token-store/token-store.js';

export interface Services {
  config: Config;
  log: Logger;
  db: Database;
  /** The Redis connection, when REDIS_URL is set (shared by the token store and other Redis users). */
  redis: Redis | undefined;
  tokenStore: TokenStore;
  /** Cross-instance change notifications (Redis pub/sub, or in-process). */
  events: ChangeEvents;
  metrics: Metrics;
  clients: ClientsRepository;
  users: UsersRepository;
  resellers: ResellersRepository;
  resourceServers: ResourceServersRepository;
  hasher: PasswordHasher;
  secretBox: SecretBox;
  /** Brute-force protection of the password grant (issue 5). */
  loginGuard?: LoginGuard;
  close(): Promise<void>;
}

export async function createServices(config: Config, log: Logger): Promise<Services> {
  if (!config.secretKey) throw new Error('SECRET_KEY is not resolved (see resolveGeneratedSecrets)');
  const db = await openDatabase(config, (err) => log.warn({ err: err.message }, 'database connection error'));
  let redis: Redis | undefined;
  try {
    const applied = await db.migrate();
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
    let tokenStore: TokenStore;
    if (config.redisUrl) {
      let lastError = '';
      redis = createRedisClient(config.redisUrl, (err) => {
        // One line per distinct error, not one per reconnect attempt.
        if (err.message !== lastError) log.warn({ err: err.message }, 'token store connection error');
        lastError = err.message;
      });
      redis.on('ready', () => {
        lastError = '';
      });
      if (!(await waitUntilReady(redis, 5000))) log.warn('token store not reachable yet; retrying in the background');
      tokenStore = new RedisTokenStore(redis, config.redisKeyPrefix);
    } else {
      tokenStore = new MemoryTokenStore();
    }
    const events = redis ? createRedisEvents(redis, config.redisKeyPrefix) : createLocalEvents();
    return {
      config,
      log,
      db,
      redis,
      tokenStore,
      events,
      metrics: createMetrics(),
      clients: createClientsRepository(db.prisma),
      users: createUsersRepository(db.prisma),
      resellers: createResellersRepository(db.prisma),
      resourceServers: createResourceServersRepository(db.prisma),
      hasher: await createPasswordHasher(config.hashConcurrency),
      secretBox: new SecretBox(config.secretKey),
      async close() {
        await events.close();
        await tokenStore.close();
        await db.close();
      },
    };
  } catch (err) {
    redis?.disconnect();
    await db.close();
    throw err;
  }
}
