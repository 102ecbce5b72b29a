// createServices: a start-up that fails half-way closes what it had opened — the hashing threads
// it starts first, the database — so a failed start (a bad PASSPORT_PUBLIC_KEY here, found after
// the database, Redis and the change events are up) leaves nothing running in the process.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createServices } from '../src/services.js';
import { waitFor } from './faults/dedicated-servers.js';
import { TEST_ADMIN_TOKEN, createTestDatabase, eachBackend, threadNiceness } from './helper.js';

// A nice value no other test's hashing threads use: these are the ones this test started.
const NICENESS = 17;
const BAD_KEY = '-----BEGIN PUBLIC KEY-----\\nnot a key\\n-----END PUBLIC KEY-----';

/** This test's hashing threads: those at NICENESS. */
const nicedThreads = () => [...threadNiceness().values()].filter((nice) => nice === NICENESS).length;

eachBackend(t, async (t, backend) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'reseller-auth-services-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const storage: Record<string, string> = {};
  if (backend.name === 'postgres+redis') {
    storage.DATABASE_URL = await createTestDatabase(t);
    storage.REDIS_URL = process.env.TEST_REDIS_URL as string;
    storage.REDIS_KEY_PREFIX = `t${randomBytes(4).toString('hex')}:`;
  }
  const env = {
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    SECRET_KEY: randomBytes(32).toString('base64'),
    ADMIN_TOKENS: TEST_ADMIN_TOKEN,
    HASH_CONCURRENCY: '2',
    HASH_NICENESS: String(NICENESS),
    ...storage,
  };

  t.test('a start-up that fails closes the hashing threads and the database', async (t) => {
    await t.rejects(
      createServices(loadConfig({ ...env, PASSPORT_PUBLIC_KEY: BAD_KEY }), createLogger('silent')),
      /PASSPORT_PUBLIC_KEY: not a PEM public key/,
    );
    await waitFor('the hashing threads to end', async () => nicedThreads() === 0, 10_000);
    t.equal(nicedThreads(), 0, 'no hashing thread left running');
    if (storage.DATABASE_URL) {
      const name = new URL(storage.DATABASE_URL).pathname.slice(1);
      const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      t.teardown(() => admin.end());
      const connections = async () => Number((await admin.query('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [name])).rows[0].n);
      await waitFor('its database connections to close', async () => (await connections()) === 0, 10_000);
      t.equal(await connections(), 0, 'no connection to its database left open');
    }
  });

  t.test('the next start succeeds on the same storage, and closes everything it started', async (t) => {
    // For the embedded database this also shows the failed start released its PGlite lock.
    const services = await createServices(loadConfig(env), createLogger('silent'));
    await waitFor('two hashing threads', async () => nicedThreads() === 2, 10_000);
    t.equal(nicedThreads(), 2, 'HASH_CONCURRENCY hashing threads, at HASH_NICENESS');
    await services.close();
    await waitFor('the hashing threads to end', async () => nicedThreads() === 0, 10_000);
    t.equal(nicedThreads(), 0, 'closed with the services');
  });
});
