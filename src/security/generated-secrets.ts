// Outside production, a newcomer needs no set-up: ADMIN_TOKENS and SECRET_KEY are generated once
// and kept under DATA_DIR with mode 0600 (docs/configuration.md, "Storage"). Production refuses to start without
// them (config.ts), so this never runs there.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';

interface StoredSecrets {
  adminToken: string;
  secretKey: string;
}

export interface ResolvedSecrets {
  config: Config;
  /** The admin token generated or read from DATA_DIR, to print at start-up; undefined if configured. */
  generatedAdminToken: string | undefined;
}

export async function resolveGeneratedSecrets(config: Config): Promise<ResolvedSecrets> {
  if (config.adminTokens.length > 0 && config.secretKey) return { config, generatedAdminToken: undefined };
  if (config.env === 'production') throw new Error('ADMIN_TOKENS and SECRET_KEY are required in production');
  await mkdir(config.dataDir, { recursive: true });
  const file = join(config.dataDir, 'secrets.json');
  let stored: StoredSecrets;
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as StoredSecrets;
  } catch {
    stored = { adminToken: randomBytes(24).toString('base64url'), secretKey: randomBytes(32).toString('base64') };
    await writeFile(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
      // Another process created it first: use theirs.
      if (err.code !== 'EEXIST') throw err;
      stored = JSON.parse(await readFile(file, 'utf8')) as StoredSecrets;
    });
  }
  await chmod(file, 0o600);
  const useGeneratedToken = config.adminTokens.length === 0;
  return {
    config: {
      ...config,
      adminTokens: useGeneratedToken ? [stored.adminToken] : config.adminTokens,
      secretKey: config.secretKey ?? Buffer.from(stored.secretKey, 'base64'),
    },
    generatedAdminToken: useGeneratedToken ? stored.adminToken : undefined,
  };
}
