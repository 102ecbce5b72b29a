// scripts/docker-steps.sh: the Dockerfile's build and runtime steps, performed without a Docker
// engine in a fresh copy of the repository, on the base image's Node.js major version, then
// started as the image and the chart start it (the migration Job's command, then tini → node
// dist/server.js as uid 1000), with the image's HEALTHCHECK run against it.
//
// Lock-step: this file parses the Dockerfile itself and requires the script to have performed
// exactly its instructions, in order; and the script refuses a RUN it does not know (checked
// here with a Dockerfile that has one more). Two parsers that must agree, so neither can drift.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import t from 'tap';
import { createTestDatabase } from '../helper.js';
import { freePort } from '../faults/dedicated-servers.js';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');
const script = join(repoRoot, 'scripts', 'docker-steps.sh');
const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const NODE_UID = 1000;

// npm ci, native builds and TypeScript on a shared 2-core machine: minutes, not seconds.
t.setTimeout(900_000);

/** The Dockerfile's instructions as Docker reads them: continuations joined, comments dropped. */
function instructionsOf(text: string): string[] {
  const instructions: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const continued = /^(.*)\\\s*$/.exec(line);
    if (continued) {
      current += `${continued[1]} `;
      continue;
    }
    instructions.push(`${current}${line}`.replace(/\s+/g, ' ').trim());
    current = '';
  }
  return instructions;
}

t.test('the script performs every instruction of the Dockerfile, and refuses a RUN it does not know', async (t) => {
  const expected = instructionsOf(dockerfile);
  t.ok(expected.length > 10, `${expected.length} instructions`);
  const ok = await run('bash', [script, '--check']);
  t.match(ok.stderr, `every one of the ${expected.length} instructions`);

  const dir = await mkdtemp(join(tmpdir(), 'docker-steps-check-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const drifted = join(dir, 'Dockerfile');
  await writeFile(drifted, dockerfile.replace('USER 1000:1000', 'RUN chmod -R a+w /app\nUSER 1000:1000'));
  const refused = await run('bash', [script, '--check', '-f', drifted]).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => err,
  );
  t.equal(refused.code, 1, 'exit status 1');
  t.match(refused.stderr, 'RUN chmod -R a+w /app: not a step this script knows');
});

const baseMajor = /^FROM node:(\d+)\./m.exec(dockerfile)?.[1];
const skip =
  process.env.TEST_DATABASE_URL && process.env.TEST_REDIS_URL
    ? process.version.startsWith(`v${baseMajor}.`) || process.env[`NODE${baseMajor}_BIN`]
      ? false
      : `neither this Node.js (${process.version}) nor NODE${baseMajor}_BIN is Node.js ${baseMajor}, the image's (source scripts/test-services.sh)`
    : 'TEST_DATABASE_URL and TEST_REDIS_URL are not set: the image is not built and started';

t.test('the base image is pinned to an exact Node.js release and a digest', async (t) => {
  const from = dockerfile.match(/^FROM node:\S+/gm) ?? [];
  t.equal(from.length, 1, 'one external base image');
  t.match(from[0], /^FROM node:\d+\.\d+\.\d+-bookworm-slim@sha256:[0-9a-f]{64}$/);
  t.ok(Number(baseMajor) >= 22, `Node.js ${baseMajor}: a supported LTS line`);
});

t.test('built from a fresh copy and started, the image serves /health/ready', { skip }, async (t) => {
  const workdir = await mkdtemp(join(tmpdir(), 'docker-steps-'));
  t.teardown(() => rm(workdir, { recursive: true, force: true }));
  const app = join(workdir, 'runtime', 'app');
  const databaseUrl = await createTestDatabase(t);
  const redisPrefix = `ds${randomBytes(4).toString('hex')}:`;
  t.teardown(() => deleteRedisKeys(process.env.TEST_REDIS_URL as string, redisPrefix));
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: process.env.TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    ADMIN_TOKENS: randomBytes(24).toString('hex'),
    SECRET_KEY: randomBytes(32).toString('base64'),
  };
  // A fixed free PORT: the HEALTHCHECK asks /health/live on it.
  const containerEnv = [
    'DATABASE_URL',
    'REDIS_URL',
    'REDIS_KEY_PREFIX',
    'ADMIN_TOKENS',
    'SECRET_KEY',
    'HOST=127.0.0.1',
    `PORT=${await freePort()}`,
    'ADMIN_PORT=0',
    'SHUTDOWN_DELAY=1',
  ];
  // Its own process group, so that teardown can stop npm, tini and node too if a step hangs.
  const child = spawn('bash', [script, '--workdir', workdir, ...containerEnv.flatMap((v) => ['-e', v])], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collect(child);
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), 'SIGKILL');
  });

  const listening = await output.waitForLog((line) => line.msg === 'listening', 840_000);
  const { port, adminPort, pid } = listening as { port: number; adminPort: number; pid: number };
  const get = (p: number, path: string) => fetch(`http://127.0.0.1:${p}${path}`);

  t.test('the steps performed are the Dockerfile instructions, in order', async (t) => {
    const steps = output.stderr.flatMap((line) => {
      const step = /^docker-steps: step (\d+)\/(\d+): (.*)$/.exec(line);
      return step ? [step[3]] : [];
    });
    t.same(steps, instructionsOf(dockerfile));
  });

  t.test("it runs on the base image's Node.js major version", async (t) => {
    const exe = readlinkSync(`/proc/${pid}/exe`);
    const { stdout } = await run(exe, ['--version']);
    t.match(stdout.trim(), new RegExp(`^v${baseMajor}\\.`), `${exe} is Node.js ${baseMajor}`);
  });

  t.test('the HEALTHCHECK passes', async (t) => {
    await output.waitForStderr((line) => line === 'docker-steps: healthcheck: healthy', 60_000);
    t.pass('docker-steps: healthcheck: healthy');
  });

  t.test('the pruned Prisma runtime serves a query (GET /admin/resource-servers)', async (t) => {
    const response = await fetch(`http://127.0.0.1:${adminPort}/admin/resource-servers`, {
      headers: { authorization: `Bearer ${env.ADMIN_TOKENS}` },
    });
    t.equal(response.status, 200);
  });

  t.test('/health/live and /health/ready answer 200 on both ports', async (t) => {
    for (const p of [adminPort, port]) {
      const live = await get(p, '/health/live');
      t.equal(live.status, 200);
      t.same(await live.json(), { status: 'ok' });
      const ready = await get(p, '/health/ready');
      t.equal(ready.status, 200);
      t.same(await ready.json(), { status: 'ok', checks: { database: 'ok', tokenStore: 'ok' } });
    }
  });

  t.test('/metrics on the internal port only', async (t) => {
    const metrics = await get(adminPort, '/metrics');
    t.equal(metrics.status, 200);
    t.match(await metrics.text(), 'reseller_auth_http_requests_total{listener="admin",route="/health/ready",method="GET",status="200"} 1');
    t.equal((await get(port, '/metrics')).status, 404);
  });

  t.test("the chart's migration Job ran first and applied every migration", async (t) => {
    const job = output.stderr.indexOf('docker-steps: migration Job: node dist/cli/main.js migrate');
    t.ok(job >= 0 && job < output.stderr.findIndex((l) => l.startsWith('docker-steps: starting: tini -- node dist/server.js')), 'before the server');
    const shipped = await migrationNames(join(app, 'prisma', 'migrations'));
    t.same(shipped, await migrationNames(join(repoRoot, 'prisma', 'migrations')), "the image ships the working tree's migrations");
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ migration_name: string }>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name',
    );
    await client.end();
    t.same(
      rows.map((r) => r.migration_name),
      shipped,
    );
  });

  t.test('the final stage holds only what runs: no sources, tests or dev dependencies', async (t) => {
    t.same((await readdir(app)).sort(), ['data', 'dist', 'node_modules', 'package.json', 'prisma']);
    t.same(await readdir(join(app, 'prisma')), ['migrations']);
    t.ok(existsSync(join(app, 'dist', 'server.js')) && existsSync(join(app, 'dist', 'cli', 'main.js')), 'dist/server.js and dist/cli/main.js');
    t.ok(existsSync(join(app, 'dist', 'generated', 'prisma', 'client.js')), 'the generated Prisma client is compiled into dist/');
    for (const name of ['typescript', 'prisma', 'tap', '@biomejs/biome'])
      t.notOk(existsSync(join(app, 'node_modules', name)), `no node_modules/${name}`);
    // Exactly the lock file's production tree: a dev dependency stays only where a production
    // package needs it too (mysql2 depends on @types/node), as the lock file records.
    // Plus the one optional package the Dockerfile keeps: @node-rs/argon2's binary for this platform.
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; devOptional?: boolean; optional?: boolean; os?: string[]; cpu?: string[]; libc?: string[] }>;
    };
    const argon2Binary = ([path, p]: [string, { os?: string[]; cpu?: string[]; libc?: string[] }]) =>
      path.startsWith('node_modules/@node-rs/argon2-') &&
      (p.os?.includes(process.platform) ?? false) &&
      (p.cpu?.includes(process.arch) ?? false) &&
      (p.libc === undefined || p.libc.includes('glibc'));
    const production = Object.entries(lock.packages)
      .filter((entry) => {
        const [path, p] = entry;
        return path !== '' && !p.dev && !p.devOptional && (!p.optional || argon2Binary(entry));
      })
      .map(([path]) => path)
      .sort();
    t.same(await installedPackages(app), production, 'node_modules holds the production packages of package-lock.json, and only those');
    for (const name of Object.keys(packageJson.devDependencies)) {
      if (!production.includes(`node_modules/${name}`)) t.notOk(existsSync(join(app, 'node_modules', name)), `no node_modules/${name}`);
    }
    t.ok(existsSync(join(app, 'node_modules', 'bcrypt', 'build', 'Release', 'bcrypt_lib.node')), 'bcrypt compiled from source');
  });

  t.test('no source maps, and only the Prisma runtime the generated client loads', async (t) => {
    const maps = (await readdir(app, { recursive: true })).filter((f) => f.endsWith('.map'));
    t.same(maps, [], 'no .map file anywhere in the image');
    const runtime = await readdir(join(app, 'node_modules', '@prisma', 'client', 'runtime'));
    t.same(
      runtime.filter((f) => !/^(client|index-browser|query_compiler_bg\.postgresql)\./.test(f)),
      [],
      'no query engines, no compilers for other databases',
    );
    t.ok(runtime.includes('query_compiler_bg.postgresql.wasm-base64.mjs'), 'the PostgreSQL query compiler stays');
  });

  const root = process.getuid?.() === 0;
  t.test(
    'it runs as node (uid 1000) under tini, and can write only its data directory',
    { skip: !root && `the script runs as uid ${process.getuid?.()}, not root: it cannot switch to the node user` },
    async (t) => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      t.match(status, new RegExp(`\\nUid:\\t${NODE_UID}\\t${NODE_UID}\\t${NODE_UID}\\t${NODE_UID}\\n`), 'every uid of node is 1000');
      t.match(status, new RegExp(`\\nGid:\\t${NODE_UID}\\t${NODE_UID}\\t${NODE_UID}\\t${NODE_UID}\\n`), 'every gid is 1000');
      t.match(status, /\nGroups:\s*\n/, 'no supplementary groups');
      const parent = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      t.equal(readFileSync(`/proc/${parent}/comm`, 'utf8').trim(), 'tini', 'its parent is tini');
      const grandparent = Number(readFileSync(`/proc/${parent}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      t.equal(grandparent, child.pid, 'tini is the process the script started');
      const owned = (path: string) => statSync(join(app, path));
      t.equal(owned('.').uid, 0, 'the application is owned by root');
      t.equal(owned('.').mode & 0o022, 0, 'and writable by no one else');
      t.equal(owned('dist').mode & 0o022, 0);
      t.equal(owned('data').uid, NODE_UID, 'data/ belongs to node');
    },
  );

  t.test('SIGTERM reaches node through tini: it drains and exits 0', async (t) => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    process.kill(child.pid as number, 'SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 30_000).unref())]);
    t.equal(code, 0, 'the script exits with the container status 0');
    t.ok(
      output.logs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM' && l.drainSeconds === 1),
      'node logged the SIGTERM and drained for SHUTDOWN_DELAY',
    );
    t.ok(
      output.logs.some((l) => l.msg === 'listeners closed'),
      'then closed its listeners',
    );
    t.notOk(existsSync(`/proc/${pid}`), 'node is gone');
  });
});

interface Output {
  stderr: string[];
  logs: Record<string, unknown>[];
  /** Resolves with the first JSON log line that matches; rejects when the process exits first or time runs out. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
  /** The same for the script's own (stderr) lines. */
  waitForStderr(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
}

function collect(child: ChildProcess): Output {
  const stderr: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const wakeAll = () => {
    for (const wake of waiters) wake();
  };
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    stderr.push(line);
    wakeAll();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    // pino's one-line JSON records; the migration Job also prints its (multi-line) JSON result.
    const record = parseRecord(line);
    if (!record) return;
    logs.push(record);
    wakeAll();
  });
  function waitFor<T>(lines: T[], match: (line: T) => boolean, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('exit', exited);
      };
      const check = () => {
        const found = lines.find(match);
        if (found !== undefined) {
          done();
          resolve(found);
        }
      };
      const fail = (why: string) => {
        done();
        reject(new Error(`${why}; last output:\n${stderr.slice(-30).join('\n')}`));
      };
      const exited = (code: number | null) => fail(`docker-steps.sh exited (${code}) before the line was written`);
      const timer = setTimeout(() => fail(`no such line after ${timeoutMs} ms`), timeoutMs);
      waiters.add(check);
      child.once('exit', exited);
      check();
    });
  }
  return {
    stderr,
    logs,
    waitForLog: (match, timeoutMs) => waitFor(logs, match, timeoutMs),
    waitForStderr: (match, timeoutMs) => waitFor(stderr, match, timeoutMs),
  };
}

function parseRecord(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Every package directory under `dir`/node_modules, nested ones too, named as package-lock.json names them. */
async function installedPackages(dir: string, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  const modules = join(dir, 'node_modules');
  if (!existsSync(modules)) return found;
  for (const entry of await readdir(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const names = entry.name.startsWith('@') ? (await readdir(join(modules, entry.name))).map((n) => `${entry.name}/${n}`) : [entry.name];
    for (const name of names) {
      const path = `${prefix}node_modules/${name}`;
      found.push(path, ...(await installedPackages(join(modules, name), `${path}/`)));
    }
  }
  return found.sort();
}

async function migrationNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    // Bounded: a test prefix never holds more than a few keys.
    for (let cursor = '0', rounds = 0; rounds < 1000; rounds += 1) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
}
