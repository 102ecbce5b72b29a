// PGlite lets two processes open one data directory and they then corrupt it: the second opener
// must be refused with a message that says why, and the directory must be usable again once the
// first one closed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openDatabase } from '../../src/db/database.js';

t.test('one process at a time on an embedded data directory', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'reseller-auth-lock-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const config = { databaseUrl: undefined, dataDir, databasePoolMax: 1, databaseStatementTimeoutMs: 1000 };
  const first = await openDatabase(config);
  await t.rejects(openDatabase(config), /in use by another process/);
  await first.close();
  const second = await openDatabase(config);
  await t.resolves(second.ping());
  await second.close();
});
