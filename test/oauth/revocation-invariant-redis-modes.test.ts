// The revocation invariant (docs/revocation.md) with the token store on a master under Sentinel
// and on a Redis Cluster, two instances each (half the stochastic trials of the one-server run).
import t from 'tap';
import { BACKENDS, type Backend } from '../helper.js';
import { lockRedisServers, redisMode } from '../redis-modes.js';
import { revocationInvariantSuite } from './revocation-invariant-suite.js';

const backend = BACKENDS.find((b) => b.name === 'postgres+redis') as Backend;
for (const mode of ['sentinel', 'cluster'] as const) {
  t.test(`postgres+redis, Redis ${mode}`, { skip: backend.skip || redisMode(mode).skip }, async (t) => {
    // No failover test may run on the shared servers meanwhile (test/redis/failover.test.ts).
    await lockRedisServers(t);
    await revocationInvariantSuite(t, backend, mode, 0.5);
  });
}
