// One zod schema for every environment variable (docs/configuration.md documents each one). loadConfig() is pure:
// it reads the given env object, never the disk, and fails naming the variable at fault.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import type { RedisConnection } from './redis/connection.js';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const list = (separator: RegExp) =>
  z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(separator)
        .map((s) => s.trim())
        .filter(Boolean),
    );

const networkList = list(/[\s,]+/).superRefine((items, ctx) => {
  for (const item of items) {
    if (isIP(item) === 0 && !ipaddr.isValidCIDR(item)) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not an IP address or CIDR block` });
    }
  }
});

const secretKey = optionalString.transform((v, ctx) => {
  if (v === undefined) return undefined;
  const key = Buffer.from(v, 'base64');
  if (key.length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, base64-encoded (openssl rand -base64 32)' });
    return z.NEVER;
  }
  return key;
});

const url = (protocols: string[]) =>
  optionalString.refine((v) => v === undefined || (URL.canParse(v) && protocols.includes(new URL(v).protocol)), {
    message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  });

/** REDIS_SENTINELS, REDIS_CLUSTER_NODES: comma-separated host:port (an IPv6 host in brackets). */
const redisNodes = list(/,/).transform((items, ctx) =>
  items.map((item) => {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(item);
    const port = Number(match?.[2]);
    if (!match?.[1] || port < 1 || port > 65535) ctx.addIssue({ code: 'custom', message: `"${item}" is not host:port` });
    return { host: (match?.[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port };
  }),
);

/** RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const B64TOKEN_RULE = '(RFC 6750 §2.1: letters, digits, "-", ".", "_", "~", "+", "/", then optionally "=" at the end)';

export const configSchema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(3000),
  ADMIN_PORT: int(0, 65535).default(3001),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  DATABASE_POOL_MAX: int(1, 200).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(5000),
  // docs/database.md: migrations may need a direct connection (not PgBouncer) and a DDL-capable role.
  MIGRATION_DATABASE_URL: url(['postgres:', 'postgresql:']),
  // docs/database.md: on (the default) the service migrates at start-up; off, it runs no DDL and
  // refuses to start on a schema behind its migrations (a migration Job owns them).
  MIGRATE_ON_START: z.enum(['true', 'false'], { message: 'must be true or false' }).default('true'),
  REDIS_URL: url(['redis:', 'rediss:']),
  // docs/redis.md: Redis is one server (REDIS_URL), a master found through Sentinel
  // (REDIS_SENTINELS + REDIS_SENTINEL_NAME) or a Cluster (REDIS_CLUSTER_NODES); one of them.
  REDIS_SENTINELS: redisNodes,
  REDIS_SENTINEL_NAME: optionalString,
  REDIS_SENTINEL_PASSWORD: optionalString,
  REDIS_CLUSTER_NODES: redisNodes,
  REDIS_USERNAME: optionalString,
  REDIS_PASSWORD: optionalString,
  REDIS_TLS: z.enum(['true', 'false']).default('false'),
  // Replicas that must hold a revocation before it is acknowledged (Redis WAIT); unset: 1 under
  // Sentinel or on a Cluster whose masters have replicas, 0 on one server.
  REDIS_MIN_REPLICAS_ACK: z.preprocess((v) => (v === '' ? undefined : v), int(0, 16).optional()),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]{0,32}$/)
    .default('reseller-auth:'),
  ADMIN_TOKENS: list(/,/)
    .refine((tokens) => tokens.every((t) => t.length >= 16), {
      message: 'each admin token must be at least 16 characters',
    })
    .superRefine((tokens, ctx) => {
      // The admin API reads `Authorization: Bearer <token>` (plugins/app/admin-auth.ts): a token
      // outside RFC 6750 §2.1's b64token syntax could never be presented. Named by position:
      // the message is printed, the token never.
      tokens.forEach((token, i) => {
        if (!B64TOKEN.test(token)) {
          ctx.addIssue({ code: 'custom', message: `token ${i + 1} of ${tokens.length} is not a bearer token an admin can send ${B64TOKEN_RULE}` });
        }
      });
    }),
  SECRET_KEY: secretKey,
  TRUSTED_PROXIES: networkList,
  CORS_ORIGINS: list(/[\s,]+/),
  ACCESS_TOKEN_TTL: int(60, 10 * 365 * 86400).default(3600),
  REFRESH_TOKEN_TTL: int(60, 10 * 365 * 86400).default(2_592_000),
  SCOPES: list(/\s+/).refine((s) => s.every((x) => /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(x) && x !== '*'), {
    message: 'scopes are space-separated RFC 6749 §3.3 scope tokens ("*" is reserved)',
  }),
  DOCS_PATH: z
    .string()
    .regex(/^\/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$/, 'must be an absolute path such as /api/documentation')
    .default('/api/documentation'),
  ISSUER: z.url().default('http://localhost:3000'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOGIN_MAX_FAILURES_USER: int(1, 1_000_000).default(10),
  LOGIN_MAX_FAILURES_CLIENT_IP: int(1, 1_000_000).default(10),
  LOGIN_MAX_FAILURES_IP: int(1, 1_000_000).default(100),
  LOGIN_WINDOW: int(1, 86400 * 7).default(900),
  // Failed password grants per user in 24 hours: unlike the window's counter, a successful login does not clear it.
  LOGIN_MAX_FAILURES_USER_DAILY: int(1, 1_000_000).default(50),
  // One argon2id at a time leaves the other core of a 2-CPU pod to the event loop, so a
  // login storm cannot starve introspection; raise it with the pod's CPU count (bench/README.md).
  HASH_CONCURRENCY: int(1, 64).default(1),
  // The hashing threads' nice value (setpriority(2), Linux): when every CPU is busy, the event
  // loop (nice 0) is scheduled first and a login storm cannot push introspection's p99 up.
  HASH_NICENESS: int(0, 19).default(10),
  // Seconds (fractions allowed) between the checks that keep the resource-server credential cache
  // trusted; a removal waits this plus 2 s before it answers (docs/revocation.md), hence the cap.
  RESOURCE_SERVERS_RELOAD_INTERVAL: z.coerce.number().min(0.1).max(60).default(5),
  // Seconds between an instance's retries of the cut-offs whose revocation failed after their change
  // was committed (a token store outage): the longest such a cut-off waits once the store is back.
  CUT_OFF_RETRY_INTERVAL: z.coerce.number().min(0.1).max(3600).default(10),
  PASSPORT_PUBLIC_KEY: optionalString,
  PASSPORT_APP_KEY: optionalString,
  // Seconds between SIGTERM and closing the listeners, readiness failing and requests still served:
  // the time load balancers (Kubernetes endpoints, kube-proxy, ingress) take to stop sending here.
  SHUTDOWN_DELAY: int(0, 300).default(5),
});

/** Production refuses the embedded defaults and generated secrets (docs/configuration.md, docs/deployment.md "Credentials"). */
export const PRODUCTION_REQUIRED = ['DATABASE_URL', 'REDIS_URL', 'ADMIN_TOKENS', 'SECRET_KEY'] as const;
export type ProductionRequirement = (typeof PRODUCTION_REQUIRED)[number];

export interface LoadConfigOptions {
  /**
   * What NODE_ENV=production insists on. The server needs all four; a command that needs less
   * (the migration Job of the Helm chart has only DATABASE_URL) names what it uses.
   */
  requiredInProduction?: readonly ProductionRequirement[];
}

export interface Config {
  env: 'production' | 'development' | 'test';
  host: string;
  port: number;
  adminPort: number;
  dataDir: string;
  databaseUrl: string | undefined;
  databasePoolMax: number;
  databaseStatementTimeoutMs: number;
  migrationDatabaseUrl: string | undefined;
  migrateOnStart: boolean;
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  /** How to reach Redis (docs/redis.md), when one of its modes is configured. */
  redis: RedisConnection | undefined;
  adminTokens: string[];
  secretKey: Buffer | undefined;
  trustedProxies: string[];
  corsOrigins: string[];
  accessTokenTtl: number;
  refreshTokenTtl: number;
  scopes: string[];
  docsPath: string;
  issuer: string;
  logLevel: string;
  login: { maxFailuresUser: number; maxFailuresUserDaily: number; maxFailuresClientIp: number; maxFailuresIp: number; window: number };
  hashConcurrency: number;
  hashNiceness: number;
  /** Seconds between the resource-server credential cache's freshness checks (docs/revocation.md, "Resource servers"). */
  resourceServersReloadInterval: number;
  /** Seconds between the retries of pending cut-offs (src/plugins/app/cut-off-retry.ts). */
  cutOffRetryInterval: number;
  passportPublicKey: string | undefined;
  /** Laravel's APP_KEY, to read Passport refresh tokens during the transition (docs/passport-migration.md). */
  passportAppKey: string | undefined;
  /** Seconds of draining after SIGTERM before the listeners close (docs/deployment.md). */
  shutdownDelay: number;
}

/** The one Redis mode configured, if any; what is inconsistent is added to `problems`, naming the variable. */
function redisConnection(e: z.infer<typeof configSchema>, problems: string[]): RedisConnection | undefined {
  const modes = [
    e.REDIS_URL && 'REDIS_URL',
    e.REDIS_SENTINELS.length > 0 && 'REDIS_SENTINELS',
    e.REDIS_CLUSTER_NODES.length > 0 && 'REDIS_CLUSTER_NODES',
  ].filter((mode) => typeof mode === 'string');
  if (modes.length > 1) problems.push(`${modes[1]}: cannot be combined with ${modes[0]} (configure one Redis mode)`);
  if (e.REDIS_SENTINEL_NAME && e.REDIS_SENTINELS.length === 0) problems.push('REDIS_SENTINEL_NAME: is set without REDIS_SENTINELS');
  if (e.REDIS_SENTINELS.length > 0 && !e.REDIS_SENTINEL_NAME) problems.push('REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS');
  if (e.REDIS_TLS === 'true' && e.REDIS_URL) problems.push('REDIS_TLS: with REDIS_URL, use a rediss:// URL instead');
  const common = { username: e.REDIS_USERNAME, password: e.REDIS_PASSWORD, tls: e.REDIS_TLS === 'true', minReplicasAck: e.REDIS_MIN_REPLICAS_ACK };
  if (e.REDIS_URL) return { mode: 'standalone', url: e.REDIS_URL, ...common };
  if (e.REDIS_SENTINELS.length > 0) {
    const sentinel = { sentinels: e.REDIS_SENTINELS, name: e.REDIS_SENTINEL_NAME ?? '', sentinelPassword: e.REDIS_SENTINEL_PASSWORD };
    return { mode: 'sentinel', ...sentinel, ...common };
  }
  if (e.REDIS_CLUSTER_NODES.length > 0) return { mode: 'cluster', nodes: e.REDIS_CLUSTER_NODES, ...common };
  return undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  const parsed = configSchema.safeParse(env);
  const lines = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`);
  if (parsed.success && parsed.data.NODE_ENV === 'production') {
    for (const name of options.requiredInProduction ?? PRODUCTION_REQUIRED) {
      // Redis under Sentinel or as a Cluster stands for REDIS_URL.
      const value = name === 'REDIS_URL' ? redisConnection(parsed.data, []) : parsed.data[name];
      if (value === undefined || (Array.isArray(value) && value.length === 0)) lines.push(`${name}: is required when NODE_ENV=production`);
    }
  }
  if (parsed.success && parsed.data.MIGRATION_DATABASE_URL && !parsed.data.DATABASE_URL) {
    lines.push('MIGRATION_DATABASE_URL: needs DATABASE_URL (the embedded database is migrated through its own handle)');
  }
  const redis = parsed.success ? redisConnection(parsed.data, lines) : undefined;
  if (!parsed.success || lines.length > 0) throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    adminPort: e.ADMIN_PORT,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseStatementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    migrationDatabaseUrl: e.MIGRATION_DATABASE_URL,
    migrateOnStart: e.MIGRATE_ON_START === 'true',
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    redis,
    adminTokens: e.ADMIN_TOKENS,
    secretKey: e.SECRET_KEY,
    trustedProxies: e.TRUSTED_PROXIES,
    corsOrigins: e.CORS_ORIGINS,
    accessTokenTtl: e.ACCESS_TOKEN_TTL,
    refreshTokenTtl: e.REFRESH_TOKEN_TTL,
    scopes: e.SCOPES,
    docsPath: e.DOCS_PATH,
    issuer: e.ISSUER,
    logLevel: e.LOG_LEVEL,
    login: {
      maxFailuresUser: e.LOGIN_MAX_FAILURES_USER,
      maxFailuresClientIp: e.LOGIN_MAX_FAILURES_CLIENT_IP,
      maxFailuresIp: e.LOGIN_MAX_FAILURES_IP,
      window: e.LOGIN_WINDOW,
      maxFailuresUserDaily: e.LOGIN_MAX_FAILURES_USER_DAILY,
    },
    hashConcurrency: e.HASH_CONCURRENCY,
    hashNiceness: e.HASH_NICENESS,
    resourceServersReloadInterval: e.RESOURCE_SERVERS_RELOAD_INTERVAL,
    cutOffRetryInterval: e.CUT_OFF_RETRY_INTERVAL,
    passportPublicKey: e.PASSPORT_PUBLIC_KEY,
    passportAppKey: e.PASSPORT_APP_KEY,
    shutdownDelay: e.SHUTDOWN_DELAY,
  };
}
