// Preloaded into the service by bench/db-pool.ts (node --import): measures, from the service's
// side, how long each pooled PostgreSQL connection stays checked out (pg-pool's 'acquire' and
// 'release' events), which is what a pool's capacity depends on: the database's own statement
// time plus the round trips and the event loop's delay in reading each answer. The totals are
// written to POOL_PROBE_FILE every 100 ms (the peaks since start: the warm-up runs the same load).
import { renameSync, writeFileSync } from 'node:fs';
import pg from 'pg';

const file = process.env.POOL_PROBE_FILE;
const stats = { holdMs: 0, checkouts: 0, peakCheckedOut: 0, peakWaiting: 0 };
const since = new WeakMap();
const emit = pg.Pool.prototype.emit;
pg.Pool.prototype.emit = function probedEmit(event, ...args) {
  if (event === 'acquire') {
    since.set(args[0], performance.now());
    stats.checkouts += 1;
    stats.peakCheckedOut = Math.max(stats.peakCheckedOut, this.totalCount - this.idleCount);
  } else if (event === 'release') {
    const started = since.get(args[1]);
    if (started !== undefined) stats.holdMs += performance.now() - started;
    since.delete(args[1]);
  }
  stats.peakWaiting = Math.max(stats.peakWaiting, this.waitingCount);
  return emit.call(this, event, ...args);
};
if (file) {
  setInterval(() => {
    // Renamed into place, so the benchmark never reads half a file.
    writeFileSync(`${file}.tmp`, JSON.stringify(stats));
    renameSync(`${file}.tmp`, file);
  }, 100).unref();
}
