// Servers that a fault test owns and may stop and start at will: a redis-server child process and
// a PostgreSQL cluster of its own (initdb into a temporary directory), each on a free port of
// 127.0.0.1, never the shared test servers. Everything is removed at teardown, failed test or not.
// When the binaries are absent the caller gets the reason to skip with instead.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';

const run = promisify(execFile);

export interface DedicatedServer {
  url: string;
  /** Stops the server; resolves once its port refuses connections. */
  stop(): Promise<void>;
  /** Starts it again on the same port; resolves once it answers. */
  start(): Promise<void>;
}

export interface DedicatedRedis extends DedicatedServer {
  port: number;
  /** SIGSTOP: the server keeps its connections and its data but answers nothing (a hung host). */
  freeze(): void;
  /** SIGCONT: it answers again, having lost nothing. */
  thaw(): void;
}

export interface DedicatedPostgres extends DedicatedServer {
  /** SIGSTOP to the postmaster and every backend: connections stay open, nothing answers. */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `condition` every 50 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** One TCP round trip: does anything accept connections on the port? */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Sends PING in the Redis protocol and expects +PONG. */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function hasCommand(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => existsSync(join(dir, command)));
}

/** Why Redis fault tests are skipped here, or false when redis-server is installed (a tap `skip` value). */
export const redisServerMissing: string | false = hasCommand('redis-server') ? false : 'redis-server is not installed: Redis fault tests skipped';

/**
 * A redis-server child process without persistence (plus `args`, e.g. --replicaof or cluster
 * options); `stop` kills it as a crash would.
 */
export async function dedicatedRedis(t: Test, args: string[] = []): Promise<DedicatedRedis | string> {
  if (redisServerMissing) return redisServerMissing;
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: DedicatedRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    async start() {
      // cwd /tmp: a cluster node given no --dir writes its state file there, not into the repository.
      const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], {
        stdio: 'ignore',
        cwd: tmpdir(),
      });
      child = started;
      started.once('exit', () => {
        if (child === started) child = undefined;
      });
      await waitFor(`redis-server on port ${port}`, () => redisAnswers(port));
    },
    async stop() {
      const running = child;
      if (!running) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
      await waitFor(`port ${port} to close`, async () => !(await accepts(port)));
    },
  };
  t.teardown(() => server.stop());
  await server.start();
  return server;
}

function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/** PostgreSQL refuses to run as root: as root, the cluster belongs to and runs as `postgres`. */
async function asPostgresUser(): Promise<{ uid: number; gid: number } | null | string> {
  if (process.getuid?.() !== 0) return null;
  try {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  } catch {
    return 'running as root without a `postgres` user: PostgreSQL fault tests skipped';
  }
}

/** The processes of one PostgreSQL cluster: the postmaster (first line of postmaster.pid) and its children. */
async function clusterProcesses(data: string): Promise<number[]> {
  const postmaster = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const children: number[] = [];
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces, so parse after the last ')'.
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === postmaster) children.push(Number(entry));
  }
  return [postmaster, ...children];
}

/** A PostgreSQL cluster of its own (trust authentication on 127.0.0.1); `stop` is pg_ctl -m fast. */
export async function dedicatedPostgres(t: Test): Promise<DedicatedPostgres | string> {
  const bin = postgresBin();
  if (!bin) return 'PostgreSQL server binaries (initdb, pg_ctl) are not installed: PostgreSQL fault tests skipped';
  const owner = await asPostgresUser();
  if (typeof owner === 'string') return owner;
  const dir = await mkdtemp(join(tmpdir(), 'reseller-auth-pg-'));
  const data = join(dir, 'data');
  const pg = (tool: string, args: string[]) =>
    owner ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { timeout: 60_000 }) : run(join(bin, tool), args, { timeout: 60_000 });
  let running = false;
  // One teardown, registered before anything can fail: a cluster that fails half-way through
  // start-up is still stopped, and its directory removed only after it stopped.
  let frozen: number[] = [];
  const thaw = () => {
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    frozen = [];
  };
  t.teardown(async () => {
    thaw();
    if (running) await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });
  if (owner) {
    await chown(dir, owner.uid, owner.gid);
    await chmod(dir, 0o700);
  }
  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const server: DedicatedPostgres = {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async freeze() {
      frozen = await clusterProcesses(data);
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    async thaw() {
      thaw();
    },
    async start() {
      const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
      running = true;
      await pg('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', options, '-w', '-t', '30', 'start']);
    },
    async stop() {
      if (!running) return;
      await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
      running = false;
      await waitFor(`port ${port} to close`, async () => !(await accepts(port)));
    },
  };
  await server.start();
  return server;
}
