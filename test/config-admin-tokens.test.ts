// ADMIN_TOKENS: each token must be one an admin can actually present. The admin API reads
// `Authorization: Bearer <token>` with RFC 6750 §2.1's b64token syntax, so a configured token
// outside it (`s3cr3t!Admin#Token$2026`) could never authenticate: start-up refuses it, naming
// the variable (exit 78, EX_CONFIG) and never printing the token.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.js';

const ROOT = join(import.meta.dirname, '..');
const UNUSABLE = 's3cr3t!Admin#Token$2026';
const GOOD = 'test-admin-token-0123456789abcdef';

const load = (tokens: string) => loadConfig({ NODE_ENV: 'test', ADMIN_TOKENS: tokens });

function refusal(tokens: string): string {
  try {
    load(tokens);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error(`ADMIN_TOKENS=${JSON.stringify(tokens)} was accepted`);
}

t.test('RFC 6750 §2.1 b64token: letters, digits, - . _ ~ + /, then optional trailing =', async (t) => {
  const every = 'AZaz09-._~+/AZaz09-._~+/==';
  t.same(load(every).adminTokens, [every], 'every allowed character');
  t.same(load(`${GOOD}, ${every}`).adminTokens, [GOOD, every], 'a comma-separated list, spaces around the commas ignored');
  for (const bad of [
    UNUSABLE,
    'admin-token-with=inside-0123',
    '=admin-token-0123456789',
    'admin token 0123456789',
    'admin-token-0123456789é',
    'admin-token\u0000-0123456789',
  ]) {
    t.match(refusal(bad), /^invalid configuration: ADMIN_TOKENS: /, `${JSON.stringify(bad)} is refused, naming ADMIN_TOKENS`);
  }
});

t.test('the message names the variable and which token, never the token or a piece of it', async (t) => {
  const message = refusal(`${GOOD},${UNUSABLE}`);
  t.equal(
    message,
    'invalid configuration: ADMIN_TOKENS: token 2 of 2 is not a bearer token an admin can send (RFC 6750 §2.1: letters, digits, "-", ".", "_", "~", "+", "/", then optionally "=" at the end)',
  );
  for (const piece of ['s3cr3t', 'Admin#', '$2026', GOOD]) t.notOk(message.includes(piece), `not "${piece}"`);
  t.match(refusal('short'), /ADMIN_TOKENS: each admin token must be at least 16 characters/, 'the length rule stands');
});

/** Runs an entry point of the sources as a process, with only the given environment. */
function run(entry: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NODE_ENV: 'development', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
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
  });
}

t.test('as a process: the server exits 78 naming ADMIN_TOKENS, the token nowhere in its output', async (t) => {
  // A DATA_DIR that must never be created: the configuration is refused before anything opens.
  // (The ops CLI turns the same ConfigError into the same exit status: test/cli/cli.test.ts.)
  const env = {
    ADMIN_TOKENS: UNUSABLE,
    DATA_DIR: join(ROOT, '.cache', `never-created-${process.pid}`),
    HOST: '127.0.0.1',
    PORT: '0',
    ADMIN_PORT: '0',
  };
  const server = await run('src/server.ts', env);
  t.equal(server.code, 78, 'exit 78 (EX_CONFIG)');
  t.match(server.stderr, /invalid configuration: ADMIN_TOKENS: token 1 of 1 is not a bearer token/, 'names the variable');
  t.notOk(`${server.stdout}${server.stderr}`.includes('s3cr3t'), 'the token is not printed');
  t.notOk(existsSync(env.DATA_DIR), 'nothing was created');
});
