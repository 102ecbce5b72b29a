// `npm start` stops with its launcher: SIGTERM or SIGINT to the npm process,
// or Ctrl-C in a terminal (SIGINT to the whole foreground process group), shuts the server down
// gracefully — its ports close, no process of it is left, npm exits 0 — and the embedded database
// is free again: the runs share one data directory, and each start would fail while another
// process held its lock. The compiled sources come from cli-process.ts (never the shared dist/),
// laid out as a checkout so that npm runs the real package.json scripts, prestart included.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, symlink, utimes } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t, { type Test } from 'tap';
import { baseEnv, compile } from './cli/cli-process.js';
import { waitFor } from './faults/dedicated-servers.js';

const ROOT = join(import.meta.dirname, '..');
/** Start-up (PGlite, migrations on the first run) and shutdown on a loaded 2-core machine. */
const START_BOUND_MS = 120_000;
const STOP_BOUND_MS = 60_000;

const { server } = await compile(t);
const checkout = dirname(dirname(server));
// prestart (scripts/build-if-needed.mjs) compares dist/ with the sources: these are they, and
// the compiled server is dated after them, so it finds nothing to build.
for (const name of ['scripts', 'src', 'package-lock.json']) await symlink(join(ROOT, name), join(checkout, name));
const future = new Date(Date.now() + 86_400_000);
await utimes(server, future, future);
const dataDir = await mkdtemp(join(tmpdir(), 'reseller-auth-npm-start-'));
t.teardown(() => rm(dataDir, { recursive: true, force: true }));

/** The processes below `pid` (Linux /proc), children first. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parents) {
      if (ppid !== parent) continue;
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

/** Still a process: present in /proc and not a zombie waiting for its parent to reap it. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

interface Started {
  npm: ChildProcess;
  exited: Promise<number | null>;
  ports: number[];
  output(): string;
}

async function npmStart(t: Test): Promise<Started> {
  const npm = spawn('npm', ['start'], {
    cwd: checkout,
    env: baseEnv({
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_PORT: '0',
      DATA_DIR: dataDir,
      HOME: process.env.HOME ?? tmpdir(),
      npm_config_update_notifier: 'false',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
    // A process group of its own, as a terminal gives a foreground job (the Ctrl-C case).
    detached: true,
  });
  let output = '';
  npm.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  npm.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    // Whatever is left of this run's process group.
    if (npm.pid && (running(npm.pid) || descendants(npm.pid).length > 0)) process.kill(-npm.pid, 'SIGKILL');
  });
  let listening: { port: number; adminPort: number } | undefined;
  const started = waitFor(
    'the server to listen',
    async () => {
      if (npm.exitCode !== null) throw new Error(`npm start exited (${npm.exitCode}):\n${output}`);
      listening = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line))
        .find((line) => line.msg === 'listening');
      return listening !== undefined;
    },
    START_BOUND_MS,
  );
  await started.catch((err: Error) => {
    throw new Error(`${err.message}:\n${output}`);
  });
  const ports = [listening?.port ?? 0, listening?.adminPort ?? 0];
  for (const port of ports) t.equal((await fetch(`http://127.0.0.1:${port}/health/ready`)).status, 200, `port ${port} ready`);
  return { npm, exited, ports, output: () => output };
}

const cases = [
  { name: 'SIGTERM to npm', signal: 'SIGTERM', group: false },
  { name: 'SIGINT to npm', signal: 'SIGINT', group: false },
  { name: 'Ctrl-C: SIGINT to the process group', signal: 'SIGINT', group: true },
  // What that Ctrl-C may deliver: the terminal's SIGINT and npm's forwarded one, a moment apart.
  { name: 'SIGINT twice to the server, a moment apart', signal: 'SIGINT', group: 'twice' },
] as const;

for (const { name, signal, group } of cases) {
  t.test(`npm start, then ${name}: the server stops too`, async (t) => {
    const { npm, exited, ports, output } = await npmStart(t);
    const pid = npm.pid as number;
    const servers = descendants(pid);
    t.ok(servers.length > 0, `npm runs the server (${servers.join(', ')})`);

    if (group === 'twice') {
      const target = servers.at(-1) as number;
      process.kill(target, signal);
      // Apart, so that the kernel does not merge them into one pending signal, but while the
      // shutdown is still closing the database (without the echo rule: exit 1 at once).
      await new Promise((resolve) => setTimeout(resolve, 20));
      try {
        process.kill(target, signal);
      } catch {
        // Already gone: nothing left to test on this run.
      }
    } else process.kill(group ? -pid : pid, signal);
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOP_BOUND_MS).unref())]);
    t.equal(code, 0, 'npm exits 0: the server shut down gracefully');
    await waitFor('the ports to close', async () => !(await accepts(ports[0] ?? 0)) && !(await accepts(ports[1] ?? 0)), STOP_BOUND_MS);
    await waitFor('every process of the run to end', async () => servers.every((p) => !running(p)), STOP_BOUND_MS);
    t.pass('ports closed, no process left');
    const lines = output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
    t.same(
      lines.filter((l) => /shutting down|listeners closed|signal/.test(l.msg)).map((l) => [l.msg, l.signal]),
      [
        ['shutting down', signal],
        ['listeners closed', undefined],
      ],
      'one graceful shutdown, on the signal sent (a repeated one is not a second request to stop)',
    );
  });
}
