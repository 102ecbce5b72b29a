// Builds the service for a test, on the embedded defaults (PGlite + in-process token store) or
// on real PostgreSQL and Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set. Each build gets
// its own database (or PGlite directory) and Redis key prefix, removed at teardown, so test
// files run in parallel without seeing each other. Every log line goes to test/.logs/ so that
// a test can search them all for secrets (test/logs.test.ts; docs/deployment.md, "Logs").
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import type { Test } from 'tap';
import { buildAdminApp, buildPublicApp } from '../src/app.js';
import { type Config, loadConfig } from '../src/config.js';
import { DependencyUnavailableError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { generateClientSecret } from '../src/security/secret-box.js';
import { parseNetworks } from '../src/security/networks.js';
import { type Services, createServices } from '../src/services.js';
import { createRedisClient, waitUntilReady } from '../src/redis/connection.js';
import { type RedisModeName, deleteKeys, redisMode } from './redis-modes.js';

export interface Backend {
  name: 'embedded' | 'postgres+redis';
  skip: string | false;
}

const realUrls = { database: process.env.TEST_DATABASE_URL, redis: process.env.TEST_REDIS_URL };

export const BACKENDS: Backend[] = [
  { name: 'embedded', skip: false },
  {
    name: 'postgres+redis',
    skip: realUrls.database && realUrls.redis ? false : 'TEST_DATABASE_URL and TEST_REDIS_URL are not set: PostgreSQL/Redis suite skipped',
  },
];

/** Runs `suite` once per backend, as a subtest named after it (skipped, and said so, when absent). */
export function eachBackend(t: Test, suite: (t: Test, backend: Backend) => Promise<void>): void {
  for (const backend of BACKENDS) {
    t.test(backend.name, { skip: backend.skip }, (tt) => suite(tt, backend));
  }
}

export const LOG_DIR = join(import.meta.dirname, '.logs');

export interface TestApp {
  config: Config;
  services: Services;
  publicApp: FastifyInstance;
  adminApp: FastifyInstance;
  adminToken: string;
  /** The storage variables of this build (database, Redis mode and prefix, SECRET_KEY), for a second instance. */
  storageEnv: Record<string, string>;
  /** Listens on 127.0.0.1 with free ports; returns the base URLs. */
  /** Listens on 127.0.0.1 (free ports) the first time; later calls answer the same addresses. */
  listen(): Promise<{ publicUrl: string; adminUrl: string }>;
}

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

/** A fresh PostgreSQL database on the test server; dropped at teardown. */
export async function createTestDatabase(t: Test): Promise<string> {
  const admin = new URL(realUrls.database as string);
  const name = `ra_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: admin.toString() });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  const url = new URL(admin.toString());
  url.pathname = `/${name}`;
  return url.toString();
}

/** The same database and role, reached through the test PgBouncer (TEST_PGBOUNCER_URL). */
export function throughPgBouncer(databaseUrl: string): string {
  if (!process.env.TEST_PGBOUNCER_URL) throw new Error('TEST_PGBOUNCER_URL is not set (source scripts/test-services.sh)');
  const bouncer = new URL(process.env.TEST_PGBOUNCER_URL);
  const url = new URL(databaseUrl);
  url.host = bouncer.host;
  return url.toString();
}

export interface BuildOptions {
  /**
   * A second instance of the same deployment: this build uses the database, Redis key prefix and
   * SECRET_KEY of `share` (which owns them and removes them at teardown). PostgreSQL + Redis only:
   * an embedded PGlite directory can be opened by one process handle only.
   */
  share?: TestApp;
  /**
   * Reach the fresh database through PgBouncer (TEST_PGBOUNCER_URL, transaction pool mode) instead
   * of directly: the database is created on PostgreSQL, which PgBouncer's wildcard entry reaches.
   */
  throughPgBouncer?: boolean;
  /** PostgreSQL + Redis: the Redis mode (test/redis-modes.ts) the instance runs on; one server by default. */
  redisMode?: RedisModeName;
}

/** Builds both listeners over one set of services; everything is closed at teardown. */
export async function build(t: Test, backend: Backend, env: Record<string, string> = {}, options: BuildOptions = {}): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'reseller-auth-test-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const storage: Record<string, string> = {};
  const { share } = options;
  if (share) {
    if (!share.config.databaseUrl || !share.config.redis || !share.config.secretKey) {
      throw new Error('build({ share }) needs a PostgreSQL + Redis build to share');
    }
    Object.assign(storage, share.storageEnv);
  } else if (backend.name === 'postgres+redis') {
    storage.DATABASE_URL = await createTestDatabase(t);
    if (options.throughPgBouncer) storage.DATABASE_URL = throughPgBouncer(storage.DATABASE_URL);
    const mode = redisMode(options.redisMode ?? 'standalone');
    if (!mode.connection) throw new Error(`Redis ${mode.mode} is not configured: ${mode.skip}`);
    Object.assign(storage, mode.env);
    storage.REDIS_KEY_PREFIX = `t${randomBytes(4).toString('hex')}:`;
    const connection = mode.connection;
    t.teardown(async () => {
      const redis = createRedisClient(connection);
      if (await waitUntilReady(redis, 5000)) await deleteKeys(redis, storage.REDIS_KEY_PREFIX as string);
      redis.disconnect();
    });
  }
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATA_DIR: dataDir,
    ADMIN_TOKENS: TEST_ADMIN_TOKEN,
    SECRET_KEY: randomBytes(32).toString('base64'),
    HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_PORT: '0',
    // A resource-server removal waits this out (docs/revocation.md); tests that measure it set their own.
    RESOURCE_SERVERS_RELOAD_INTERVAL: '0.5',
    // Tests that leave a cut-off pending check who completes it; the retry's own tests set theirs.
    CUT_OFF_RETRY_INTERVAL: '3600',
    ...storage,
    ...env,
  });
  const storageEnv = { ...storage, SECRET_KEY: (config.secretKey as Buffer).toString('base64') };
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = createWriteStream(
    join(LOG_DIR, `${basename(t.fullname.replace(/[^\w.-]+/g, '_')).slice(0, 100)}-${randomBytes(3).toString('hex')}.log`),
  );
  const services = await createServices(config, createLogger(config.logLevel, logFile));
  const publicApp = await buildPublicApp(services);
  const adminApp = await buildAdminApp(services);
  t.teardown(async () => {
    await Promise.all([publicApp.close(), adminApp.close()]);
    await services.close();
    await new Promise((resolve) => logFile.end(resolve));
  });
  await Promise.all([publicApp.ready(), adminApp.ready()]);
  let listening: Promise<{ publicUrl: string; adminUrl: string }> | undefined;
  return {
    config,
    services,
    publicApp,
    adminApp,
    adminToken: TEST_ADMIN_TOKEN,
    storageEnv,
    listen() {
      listening ??= (async () => {
        const publicUrl = await publicApp.listen({ host: '127.0.0.1', port: 0 });
        const adminUrl = await adminApp.listen({ host: '127.0.0.1', port: 0 });
        return { publicUrl, adminUrl };
      })();
      return listening;
    },
  };
}

export interface SeededReseller {
  resellerId: string;
  clientId: string;
  clientSecret: string;
  email: string;
  password: string;
  userId: number;
}

let seq = 0;

/** Configures a reseller's API access through the repositories (what PUT /admin/resellers/{id}/api does). */
export async function seedReseller(
  services: Services,
  options: { resellerId?: string; email?: string; password?: string; allowedIp?: string } = {},
): Promise<SeededReseller> {
  seq += 1;
  const resellerId = options.resellerId ?? `r${seq}${randomBytes(2).toString('hex')}`;
  const email = options.email ?? `api.${resellerId}@revenda.example`;
  const password = options.password ?? `senha-${randomBytes(6).toString('hex')}`;
  const clientSecret = generateClientSecret();
  const networks = parseNetworks(options.allowedIp ?? '127.0.0.0/8,::1');
  if (!networks.ok) throw new Error(networks.error);
  const access = await services.resellers.create({
    resellerId,
    name: `Revenda ${resellerId}`,
    email,
    passwordHash: await services.hasher.hash(password),
    allowedNetworks: networks.networks,
    secret: services.secretBox.seal(clientSecret),
  });
  return { resellerId, clientId: String(access.clientId), clientSecret, email, password, userId: access.userId };
}

/** What a reseller's software holds: a seeded reseller, or one of a Passport fixture world. */
export interface ResellerCredentials {
  clientId: string | number;
  clientSecret: string;
  email: string;
  password: string;
}

/** The resellers' exact request body of docs/resellers.md. */
export function passwordGrantBody(r: ResellerCredentials, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    grant_type: 'password',
    client_id: String(r.clientId),
    client_secret: r.clientSecret,
    username: r.email,
    password: r.password,
    scope: '',
    ...extra,
  };
}

export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/** An application/x-www-form-urlencoded body (RFC 6749 §4.3.2, RFC 7662 §2.1, RFC 7009 §2.1). */
export const form = (params: Record<string, unknown>): string =>
  new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();

// The Passport-shaped bodies the /oauth/* tests expect, written out once (not taken from
// src/errors.ts, so that a changed wording there fails the tests).

export const INVALID_REQUEST =
  'The request is missing a required parameter, includes an invalid parameter value, includes a parameter more than once, or is otherwise malformed.';
export const invalidClient = { error: 'invalid_client', error_description: 'Client authentication failed', message: 'Client authentication failed' };
export const invalidRequest = (hint: string) => ({ error: 'invalid_request', error_description: INVALID_REQUEST, message: INVALID_REQUEST, hint });

/** docs/resellers.md: "database or token store unreachable → 503 + Retry-After, temporarily_unavailable". */
export function unavailableBody(what: 'database' | 'token store') {
  const description = `The ${what} is temporarily unavailable. Try again shortly.`;
  return { error: 'temporarily_unavailable', error_description: description, message: description };
}

export const TOKEN_STORE_UNAVAILABLE = unavailableBody('token store');

/** RFC 6749 §2.3.1: client credentials form-urlencoded inside HTTP Basic. */
export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/**
 * Admin API requests (docs/admin-api.md) with the test's admin token, through the admin app of
 * `app` — a test app, or a function answering the one a `t.before` has built by then.
 */
export function adminInject(app: TestApp | (() => TestApp)) {
  return (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, payload?: object) => {
    const ctx = typeof app === 'function' ? app() : app;
    return ctx.adminApp.inject({ method, url, payload, headers: { authorization: `Bearer ${ctx.adminToken}` } });
  };
}

/** Makes the token store's hot-path read fail as an unreachable Redis does, until the test ends. */
export function failTokenStoreReads(t: Test, services: Services): void {
  const store = services.tokenStore;
  const original = store.findAccessToken;
  store.findAccessToken = async () => {
    throw new DependencyUnavailableError('token store', new Error('connection refused'));
  };
  t.teardown(() => {
    store.findAccessToken = original;
  });
}

/**
 * Nice values of this process's threads, by thread id (Linux; proc(5): field 19 of
 * /proc/self/task/<tid>/stat). The hashing threads are the ones at HASH_NICENESS.
 */
export function threadNiceness(): Map<string, number> {
  const nice = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      nice.set(tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return nice;
}
