// The service's shared resources, created once per process and used by both listeners (the
// public port and the internal admin port are two Fastify instances over the same storage: an
// embedded PGlite directory can be opened by one handle only).
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { LoginGuard } from './oauth/login-guard.js';
import { type Database, openDatabase } from './db/database.js';
import { type ChangeEvents, createLocalEvents, createRedisEvents } from './events.js';
import { type Metrics, createMetrics } from './metrics.js';
import { type PassportTransition, createPassportTransition } from './passport/transition.js';
import { type ClientsRepository, createClientsRepository } from './repositories/clients-repository.js';
import { type LegacyTokensRepository, createLegacyTokensRepository } from './repositories/legacy-tokens-repository.js';
import { type ResellersRepository, createResellersRepository } from './repositories/resellers-repository.js';
import { type ResourceServersRepository, createResourceServersRepository } from './repositories/resource-servers-repository.js';
import { type ResourceServerCredentials, createResourceServerCredentials, resourceServerSecrets } from './resource-servers/credential-cache.js';
import { createRedisRegistryVersion } from './resource-servers/registry-version.js';
import { type UsersRepository, createUsersRepository } from './repositories/users-repository.js';
import { createLoginLimiter } from './security/login-limiter.js';
import { type PasswordHasher, createPasswordHasher, startedOnFirstUse } from './security/password-hasher.js';
import { SecretBox } from './security/secret-box.js';
import { MemoryTokenStore } from './token-store/memory-token-store.js';
import { createRedisClient, waitUntilReady } from './redis/connection.js';
import { confirmDurable, mayWait } from './redis/durability.js';
import { RedisTokenStore } from './token-store/redis-token-store.js';
import type { TokenStore } from './token-store/token-store.js';

/** How long a revocation waits for a replica's acknowledgement before it answers 503. */
const DURABLE_WAIT_MS = 1000;

export interface Services {
  config: Config;
  log: Logger;
  db: Database;
  /** The Redis client, when a Redis mode is configured (docs/redis.md; shared by the token store and other Redis users). */
  redis: Redis | Cluster | undefined;
  /** The token store's second Redis client, for revocations and their WAIT (redis-token-store.ts). */
  durableRedis: Redis | Cluster | undefined;
  tokenStore: TokenStore;
  /** Cross-instance change notifications (Redis pub/sub, or in-process). */
  events: ChangeEvents;
  metrics: Metrics;
  clients: ClientsRepository;
  users: UsersRepository;
  resellers: ResellersRepository;
  resourceServers: ResourceServersRepository;
  /** In-process credentials of the resource servers, so that introspection needs no database (docs/resource-servers.md). */
  resourceServerCredentials: ResourceServerCredentials;
  hasher: PasswordHasher;
  secretBox: SecretBox;
  /** Brute-force protection of the password grant (docs/rate-limits.md). */
  loginGuard: LoginGuard;
  /** Imported Laravel Passport tokens (docs/passport-migration.md), revoked with the user's own tokens. */
  legacyTokens: LegacyTokensRepository;
  /** The Laravel Passport transition (docs/passport-migration.md): set while PASSPORT_PUBLIC_KEY is configured. */
  passport: PassportTransition | undefined;
  close(): Promise<void>;
}

/** hasher 'on-first-use': the hashing threads start with the first hash (the ops CLI: startedOnFirstUse). */
export async function createServices(config: Config, log: Logger, options: { hasher?: 'on-first-use' } = {}): Promise<Services> {
  if (!config.secretKey) throw new Error('SECRET_KEY is not resolved (see resolveGeneratedSecrets)');
  const db = await openDatabase(config, (err) => log.warn({ err: err.message }, 'database connection error'));
  // Started here and awaited last: the hashing threads load (and compute the dummy hash) while
  // the database migrates and Redis connects, instead of after them.
  const hasherOptions = { concurrency: config.hashConcurrency, niceness: config.hashNiceness };
  const hasherReady =
    options.hasher === 'on-first-use'
      ? Promise.resolve(startedOnFirstUse(() => createPasswordHasher(hasherOptions)))
      : createPasswordHasher(hasherOptions);
  // Awaited below; a rejection before then is not an unhandled one, and leaves nothing to close.
  const hasherStarted = hasherReady.catch(() => undefined);
  // What has been opened, closed in reverse: by close(), or at once when a later step fails.
  const opened: (() => unknown)[] = [() => db.close(), () => hasherStarted.then((hasher) => hasher?.close())];
  const closeOpened = async () => {
    for (const close of opened.splice(0).reverse()) await close();
  };
  try {
    // MIGRATE_ON_START=false: a migration Job owns the schema and this instance runs no DDL.
    if (config.migrateOnStart) {
      const applied = await db.migrate();
      if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
    } else {
      await db.assertMigrated();
    }
    let redis: Redis | Cluster | undefined;
    let durableRedis: Redis | Cluster | undefined;
    let tokenStore: TokenStore;
    if (config.redis) {
      let lastError = '';
      const onRedisError = (err: Error) => {
        // One line per distinct error, not one per reconnect attempt.
        if (err.message !== lastError) log.warn({ err: err.message }, 'token store connection error');
        lastError = err.message;
      };
      redis = createRedisClient(config.redis, onRedisError);
      redis.on('ready', () => {
        lastError = '';
      });
      // A revocation answers only once it is on a replica where replicas exist (docs/redis.md), on a
      // connection of its own so that WAIT never holds introspection's reads. Where no WAIT is ever
      // sent, a second connection would only split each grant's last writes over two sockets.
      const durableClient = mayWait(config.redis) ? createRedisClient(config.redis, onRedisError) : redis;
      durableRedis = durableClient;
      tokenStore = new RedisTokenStore(redis, {
        keyPrefix: config.redisKeyPrefix,
        durableClient,
        confirmDurable: (client, keys) => confirmDurable(client, keys, DURABLE_WAIT_MS),
      });
    } else {
      tokenStore = new MemoryTokenStore();
    }
    // Listed before the first wait, so a failure from here on closes the Redis client too.
    opened.push(() => tokenStore.close());
    if (redis && !(await waitUntilReady(redis, 5000))) log.warn('token store not reachable yet; retrying in the background');
    const onEventError = (err: Error) => log.warn({ err: err.message }, 'change notification failed');
    const events = redis ? createRedisEvents(redis, config.redisKeyPrefix, onEventError) : createLocalEvents(onEventError);
    opened.push(() => events.close());
    const legacyTokens = createLegacyTokensRepository(db.prisma);
    const passport = await createPassportTransition(config, legacyTokens, events);
    const resourceServers = createResourceServersRepository(db.prisma);
    const secretBox = new SecretBox(config.secretKey);
    const onCacheError = (err: unknown, context: string) => log.warn({ err: err instanceof Error ? err.message : String(err) }, context);
    const resourceServerCredentials = await createResourceServerCredentials({
      load: resourceServerSecrets(resourceServers, secretBox, onCacheError),
      events,
      version: redis && createRedisRegistryVersion(redis, config.redisKeyPrefix),
      exclusive: db.kind === 'pglite',
      reloadIntervalMs: config.resourceServersReloadInterval * 1000,
      onError: onCacheError,
    });
    opened.push(() => resourceServerCredentials.close());
    const metrics = createMetrics();
    const hasher = await hasherReady;
    return {
      config,
      log,
      db,
      redis,
      durableRedis,
      tokenStore,
      events,
      metrics,
      loginGuard: createLoginLimiter({
        limits: config.login,
        // An address that logged the user in stays exempt from the user's lock as long as the
        // refresh token it was given could be used (login-limiter.ts explains the policy).
        knownAddressTtl: config.refreshTokenTtl,
        redis,
        keyPrefix: config.redisKeyPrefix,
        metrics,
        log,
      }),
      clients: createClientsRepository(db.prisma, db.sql),
      legacyTokens,
      users: createUsersRepository(db.prisma),
      resellers: createResellersRepository(db.prisma),
      resourceServers,
      resourceServerCredentials,
      hasher,
      secretBox,
      passport,
      close: closeOpened,
    };
  } catch (err) {
    await closeOpened();
    throw err;
  }
}
