// What every benchmark needs: a fresh PostgreSQL database and Redis prefix on the servers the
// test suite uses (scripts/test-services.sh), the service built and started as a real process on
// 127.0.0.1, and a reseller seeded through the same repositories the admin API uses.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { parseNetworks } from '../../src/security/networks.js';
import { generateClientSecret, generateToken } from '../../src/security/secret-box.js';
import { createServices } from '../../src/services.js';

export interface Stack {
  env: Record<string, string>;
  close(): Promise<void>;
}

export function requireServers(): { databaseUrl: string; redisUrl: string } {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  const redisUrl = process.env.TEST_REDIS_URL;
  if (!databaseUrl || !redisUrl) {
    console.error('Set TEST_DATABASE_URL and TEST_REDIS_URL first: source scripts/test-services.sh');
    process.exit(2);
  }
  return { databaseUrl, redisUrl };
}

/** A fresh database and key prefix, and the environment a service process needs to use them. */
export async function createStack(overrides: Record<string, string> = {}): Promise<Stack> {
  const { databaseUrl, redisUrl } = requireServers();
  const name = `ra_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const env = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: url.toString(),
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `bench${randomBytes(3).toString('hex')}:`,
    ADMIN_TOKENS: randomBytes(24).toString('base64url'),
    SECRET_KEY: randomBytes(32).toString('base64'),
    HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_PORT: '0',
    // The benchmark sends thousands of logins from one address: brute-force limits would stop it.
    LOGIN_MAX_FAILURES_USER: '1000000',
    LOGIN_MAX_FAILURES_CLIENT_IP: '1000000',
    LOGIN_MAX_FAILURES_IP: '1000000',
    ...overrides,
  };
  return {
    env,
    async close() {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface SeededCredentials {
  clientId: string;
  clientSecret: string;
  email: string;
  password: string;
}

/** Seeds one reseller (migrating the fresh database on the way) and closes the connections again. */
export async function seedReseller(env: Record<string, string>): Promise<SeededCredentials> {
  const config = loadConfig(env);
  const services = await createServices(config, createLogger('warn'));
  try {
    const password = `bench-${randomBytes(8).toString('hex')}`;
    const clientSecret = generateClientSecret();
    const networks = parseNetworks('127.0.0.0/8');
    if (!networks.ok) throw new Error(networks.error);
    const access = await services.resellers.create({
      resellerId: `bench${randomBytes(3).toString('hex')}`,
      name: 'Benchmark reseller',
      email: `bench.${randomBytes(3).toString('hex')}@revenda.example`,
      passwordHash: await services.hasher.hash(password),
      allowedNetworks: networks.networks,
      secret: services.secretBox.seal(clientSecret),
    });
    return { clientId: String(access.clientId), clientSecret, email: access.email, password };
  } finally {
    await services.close();
  }
}

/** Registers a resource server allowed to introspect; answers its client id and secret. */
export async function seedResourceServer(env: Record<string, string>): Promise<{ clientId: string; secret: string }> {
  const services = await createServices(loadConfig(env), createLogger('warn'));
  try {
    const secret = generateToken();
    const rs = await services.resourceServers.create('Benchmark resource server', services.secretBox.seal(secret));
    return { clientId: String(rs.clientId), secret };
  } finally {
    await services.close();
  }
}

export interface RunningService {
  publicUrl: string;
  adminUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `node <args>` (a service entry point) and waits for its "listening" log line, whose
 * public and admin ports it answers; stdout is drained from then on.
 */
export async function spawnService(
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): Promise<{ port: number; adminPort: number; child: ChildProcess }> {
  // SHUTDOWN_DELAY 0 unless asked: a benchmark stops its servers between rounds, with nothing in front of them to drain.
  const child = spawn('node', args, {
    cwd,
    env: { SHUTDOWN_DELAY: '0', ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const listening = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('service did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
    lines.on('line', (line) => {
      if (!line.includes('"msg":"listening"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as { port: number; adminPort: number });
    });
  });
  // Keep draining stdout so the child never blocks on a full pipe.
  lines.on('line', () => {});
  return { ...listening, child };
}

/** Builds if needed, starts `node dist/server.js`, and waits for its "listening" log line. */
export async function startService(env: Record<string, string>): Promise<RunningService> {
  execFileSync('node', ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
  const { port, adminPort, child } = await spawnService(['dist/server.js'], env);
  return {
    publicUrl: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The resellers' exact JSON body of a password grant (docs/resellers.md), for `credentials`. */
export function passwordGrantBody(credentials: SeededCredentials): string {
  return JSON.stringify({
    grant_type: 'password',
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
    username: credentials.email,
    password: credentials.password,
    scope: '',
  });
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

// Clock ticks per second of /proc/<pid>/stat's times (USER_HZ; 100 on every mainstream Linux).
let clockTicks: number | undefined;

/**
 * CPU time (user + system, all threads: the event loop, V8's GC helpers, libuv's pool) the
 * process has used so far, in milliseconds; undefined where /proc is not available.
 * proc(5): fields 14 and 15 of /proc/<pid>/stat, counted after the parenthesised command name.
 */
export function cpuMilliseconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}
