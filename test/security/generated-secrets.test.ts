// Outside production, ADMIN_TOKENS and SECRET_KEY are generated once, kept under DATA_DIR with
// mode 0600, and reused at every later start (docs/configuration.md, "Storage"). The CLI test shows the reuse
// across processes: a secret the CLI sealed is opened by the server started afterwards.
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { resolveGeneratedSecrets } from '../../src/security/generated-secrets.js';

const mode = async (file: string) => (await stat(file)).mode & 0o777;

t.test('generated once with mode 0600, then reused as they are', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'reseller-auth-secrets-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const dataDir = join(root, 'data');
  const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: dataDir });
  t.same([config.adminTokens, config.secretKey], [[], undefined], 'nothing configured');

  const first = await resolveGeneratedSecrets(config);
  const file = join(dataDir, 'secrets.json');
  t.equal(await mode(file), 0o600, 'readable by the service user only');
  t.match(first.generatedAdminToken, /^[A-Za-z0-9_-]{32}$/, 'printed at start-up');
  t.same(first.config.adminTokens, [first.generatedAdminToken]);
  t.equal(first.config.secretKey?.length, 32);

  await chmod(file, 0o644);
  const next = await resolveGeneratedSecrets(config);
  t.equal(next.generatedAdminToken, first.generatedAdminToken, 'the same admin token at the next start');
  t.same(next.config.secretKey, first.config.secretKey, 'the same SECRET_KEY: stored secrets stay readable');
  t.equal(await mode(file), 0o600, 'a loosened mode is tightened again');
  t.same(JSON.parse(await readFile(file, 'utf8')), { adminToken: first.generatedAdminToken, secretKey: first.config.secretKey?.toString('base64') });
});

t.test('configured values win; only the missing one comes from the file', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'reseller-auth-secrets-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const configured = await resolveGeneratedSecrets(loadConfig({ DATA_DIR: dataDir, ADMIN_TOKENS: 'configured-admin-token-0001' }));
  t.equal(configured.generatedAdminToken, undefined, 'nothing to print: the token is configured');
  t.same(configured.config.adminTokens, ['configured-admin-token-0001']);
  t.equal(configured.config.secretKey?.length, 32);

  const key = Buffer.alloc(32, 7).toString('base64');
  const both = await resolveGeneratedSecrets(
    loadConfig({ DATA_DIR: join(dataDir, 'unused'), ADMIN_TOKENS: 'configured-admin-token-0001', SECRET_KEY: key }),
  );
  t.same(both.config.secretKey, Buffer.alloc(32, 7));
  await t.rejects(stat(join(dataDir, 'unused')), 'with both configured, nothing is written');
});
