// Runs the compiled CLI and server as child processes, the way ops and `npm start` run them.
// The sources are compiled once per test file into a private directory (never the shared dist/,
// which other test files and `npm start` use).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Test } from 'tap';
import ts from 'typescript';

const ROOT = join(import.meta.dirname, '..', '..');

export interface Build {
  cli: string;
  server: string;
}

/**
 * The sources compiled with tsconfig.build.json's options into .cache/ (inside the project, so
 * that node_modules and package.json resolve as they do for dist/). File by file with
 * transpileModule: tsconfig sets isolatedModules, so this emits what `tsc -p
 * tsconfig.build.json` emits, in a fraction of the time; type errors are the typecheck step's.
 */
export async function compile(t: Test): Promise<Build> {
  await mkdir(join(ROOT, '.cache'), { recursive: true });
  const dir = await mkdtemp(join(ROOT, '.cache', 'cli-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // As in the image: dist/db/migrate.js reads ../../prisma/migrations, the OpenAPI document ../../package.json.
  await symlink(join(ROOT, 'prisma'), join(dir, 'prisma'));
  await symlink(join(ROOT, 'package.json'), join(dir, 'package.json'));
  const { config } = ts.readConfigFile(join(ROOT, 'tsconfig.build.json'), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  const rootDir = parsed.options.rootDir ?? join(ROOT, 'src');
  // NodeNext emits ES modules here (package.json "type": "module"), but transpileModule cannot
  // look that up per file: ask for ES modules directly.
  const options = {
    ...parsed.options,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    sourceMap: false,
    inlineSourceMap: false,
  };
  // Declaration files (.d.ts) emit nothing; transpileModule fails on them.
  for (const file of parsed.fileNames.filter((f) => !f.endsWith('.d.ts'))) {
    const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), { compilerOptions: options, fileName: file });
    const target = join(dir, 'dist', relative(rootDir, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, outputText);
  }
  return { cli: join(dir, 'dist', 'cli', 'main.js'), server: join(dir, 'dist', 'server.js') };
}

export async function firstLine(file: string): Promise<string> {
  return (await readFile(file, 'utf8')).split('\n')[0] ?? '';
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: no tap loaders, no inherited configuration. */
export function baseEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  // SHUTDOWN_DELAY 0: a test's teardown stops the server at once (test/drain.test.ts tests the delay).
  // A short resource-server reload interval: a removal waits it out (docs/revocation.md).
  return { PATH: process.env.PATH, NODE_ENV: 'development', LOG_LEVEL: 'info', SHUTDOWN_DELAY: '0', RESOURCE_SERVERS_RELOAD_INTERVAL: '0.5', ...env };
}

export function runCli(cli: string, args: string[], env: Record<string, string>, stdin = ''): Promise<Result> {
  return runProgram(process.execPath, [cli, ...args], env, stdin);
}

/** Any program (e.g. script(1) running the CLI on a pseudo-terminal), with the same clean environment. */
export function runProgram(program: string, args: string[], env: Record<string, string>, stdin = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: baseEnv(env), stdio: ['pipe', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

export interface RunningServer {
  publicUrl: string;
  adminUrl: string;
  /** The generated admin token the server printed at start-up. */
  adminToken: string | undefined;
  output(): string;
}

/** Starts the compiled server on free ports; stopped (SIGTERM, then SIGKILL) at teardown. */
export async function startServer(t: Test, server: string, env: Record<string, string>): Promise<RunningServer> {
  const child: ChildProcess = spawn(process.execPath, [server], {
    env: baseEnv({ HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 120 s:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const listening = output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg?: string; port?: number; adminPort?: number })
        .find((line) => line.msg === 'listening');
      if (!listening) return;
      clearTimeout(timer);
      resolve({
        publicUrl: `http://127.0.0.1:${listening.port}`,
        adminUrl: `http://127.0.0.1:${listening.adminPort}`,
        adminToken: /admin token \(kept in [^)]*\): (\S+)/.exec(output)?.[1],
        output: () => output,
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}):\n${output}`));
    });
  });
}
