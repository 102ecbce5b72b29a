// Loaded into the profiled CLI with `node --import` (bench/import with BENCH_IMPORT_PROFILE):
// appends process.memoryUsage() every 100 ms to RA_BENCH_MEMORY_FILE, one JSON line each, so that
// a phase's memory splits into the JS heap, Buffers/ArrayBuffers and the rest (the query
// compiler's WebAssembly memory, code, native allocations). Adds nothing to the process but the
// timer, which does not keep it alive.
import { appendFileSync } from 'node:fs';

const file = process.env.RA_BENCH_MEMORY_FILE;
if (file) {
  setInterval(() => {
    const m = process.memoryUsage();
    const t = Number(process.hrtime.bigint() / 1000n);
    appendFileSync(
      file,
      `${JSON.stringify({ t, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers })}\n`,
    );
  }, 100).unref();
}
