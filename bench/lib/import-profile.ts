// Where an import's time and memory go, from a V8 CPU profile of the CLI (`node --cpu-prof`) and
// its process.memoryUsage() every 100 ms (import-memory-sampler.mjs), both on process.hrtime's
// clock: the run cut into phases named after the importer's own files (src/passport/*), each
// with its CPU by library and the memory it reached.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/** The format `--cpu-prof` writes (Chrome DevTools protocol, Profiler.Profile); times in µs. */
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Phase {
  /** The importer file (src/passport/<name>.ts) whose code ran most in the phase. */
  name: string;
  fromS: number;
  toS: number;
  /** CPU milliseconds of the main thread by what ran it (V8's GC included, idle left out). */
  cpuMs: Map<string, number>;
  rssStartMb: number;
  rssMaxMb: number;
  /** The largest JS heap in use (live objects and garbage not yet collected). */
  heapUsedMaxMb: number;
  /** The largest `external` (Buffers, ArrayBuffers and other memory V8 objects hold outside the heap). */
  externalMaxMb: number;
  /** The largest RSS − heapTotal − external: WebAssembly memory, code, native allocations. */
  otherMaxMb: number;
  /** Memory readings in the phase (none while the event loop was blocked for its whole length). */
  readings: number;
}

interface MemorySample {
  /** process.hrtime in µs. */
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

export interface ImportProfile {
  phases: Phase[];
  /** The functions with the most self time over the whole run, with their CPU milliseconds. */
  hottest: [string, number][];
}

const IMPORTER = /\/passport\/([\w-]+)\.js$/;
/** Readers every step calls: they name a window only when nothing else of the importer ran in it. */
const HELPERS = new Set(['source', 'source-time-zone', 'passport-entries']);
// Which library a frame's script belongs to; the first match wins.
const LIBRARIES: [string, RegExp][] = [
  ['importer (src/passport)', /\/passport\/[\w-]+\.js$/],
  ['Prisma client + query compiler', /generated\/prisma|@prisma\/|query_compiler|\.wasm/],
  ['pg driver', /node_modules\/(pg|pg-protocol|pg-types|postgres-\w+)\//],
  ['other application code', /\/dist\//],
  ['other dependencies', /node_modules\//],
];

function library(url: string): string | undefined {
  return LIBRARIES.find(([, match]) => match.test(url))?.[0];
}

/** The profile's samples as (time in ms since the profile's start, phase key, library). */
function classify(profile: CpuProfile): { t: number; dt: number; phase: string | undefined; lib: string; fn: string }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const memo = new Map<number, { phase: string | undefined; lib: string }>();
  const describe = (id: number): { phase: string | undefined; lib: string } => {
    const known = memo.get(id);
    if (known) return known;
    const { functionName, url } = (byId.get(id) as ProfileNode).callFrame;
    const up = parent.get(id);
    const above = up === undefined ? { phase: undefined, lib: 'V8 / Node' } : describe(up);
    const file = IMPORTER.exec(url)?.[1];
    // The innermost importer file on the stack names the phase; the innermost library with a
    // script of its own pays for the sample (a builtin pays for its caller).
    const result = {
      phase: file ?? above.phase,
      lib: functionName.startsWith('(') && functionName !== '(anonymous)' ? functionName : (library(url) ?? above.lib),
    };
    memo.set(id, result);
    return result;
  };
  let t = 0;
  return profile.samples.map((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const fn = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(node_modules|dist)\//, '')}`;
    return { t: t / 1000, dt: dt / 1000, fn, ...describe(id) };
  });
}

/**
 * Cuts the run into windows of `windowMs`, names each after the importer file whose code ran most
 * in it, and merges neighbours of the same name.
 */
export function importPhases(profilePath: string, memoryPath: string, windowMs = 1000): ImportProfile {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;
  const samples = classify(profile).filter((s) => s.lib !== '(idle)');
  const MB = 1024 * 1024;
  // On the profile's time line, in ms.
  const memory = readFileSync(memoryPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as MemorySample)
    .map((m) => ({ ...m, t: (m.t - profile.startTime) / 1000 }));
  const end = Math.max(...samples.map((s) => s.t), ...memory.map((m) => m.t));
  const phases: Phase[] = [];
  for (let from = 0; from < end; from += windowMs) {
    const inWindow = samples.filter((s) => s.t >= from && s.t < from + windowMs);
    const byPhase = new Map<string, number>();
    for (const s of inWindow) if (s.phase) byPhase.set(s.phase, (byPhase.get(s.phase) ?? 0) + s.dt);
    const ranked = [...byPhase].sort((a, b) => b[1] - a[1]);
    const name = (ranked.find(([file]) => !HELPERS.has(file)) ?? ranked[0])?.[0] ?? '(no importer code on the stack)';
    const last = phases[phases.length - 1];
    const phase =
      last?.name === name
        ? last
        : {
            name,
            fromS: from / 1000,
            toS: 0,
            cpuMs: new Map<string, number>(),
            rssStartMb: 0,
            rssMaxMb: 0,
            heapUsedMaxMb: 0,
            externalMaxMb: 0,
            otherMaxMb: 0,
            readings: 0,
          };
    if (phase !== last) {
      phase.rssStartMb = (memory.find((m) => m.t >= from)?.rss ?? 0) / MB;
      phases.push(phase);
    }
    phase.toS = (from + windowMs) / 1000;
    for (const s of inWindow) phase.cpuMs.set(s.lib, (phase.cpuMs.get(s.lib) ?? 0) + s.dt);
    for (const m of memory.filter((m) => m.t >= from && m.t < from + windowMs)) {
      phase.readings += 1;
      phase.rssMaxMb = Math.max(phase.rssMaxMb, m.rss / MB);
      phase.heapUsedMaxMb = Math.max(phase.heapUsedMaxMb, m.heapUsed / MB);
      phase.externalMaxMb = Math.max(phase.externalMaxMb, m.external / MB);
      phase.otherMaxMb = Math.max(phase.otherMaxMb, (m.rss - m.heapTotal - m.external) / MB);
    }
  }
  const self = new Map<string, number>();
  for (const s of samples) self.set(s.fn, (self.get(s.fn) ?? 0) + s.dt);
  const hottest = [...self].sort((a, b) => b[1] - a[1]).slice(0, 15);
  return { phases, hottest };
}

export function phaseTable({ phases, hottest }: ImportProfile): string {
  const libs = [...new Set(phases.flatMap((p) => [...p.cpuMs.keys()]))].sort();
  const lines = [
    `| phase (importer file) | from s | to s | RSS at start MB | RSS max MB | JS heap used max MB | external max MB | other max MB | ${libs.map((l) => `CPU ms: ${l}`).join(' | ')} |`,
    `|---|---|---|---|---|---|---|---|${libs.map(() => '---|').join('')}`,
  ];
  for (const p of phases) {
    const cpu = libs.map((l) => Math.round(p.cpuMs.get(l) ?? 0));
    const mb = (value: number) => (p.readings > 0 ? value.toFixed(0) : '-');
    lines.push(
      `| ${p.name} | ${p.fromS.toFixed(0)} | ${p.toS.toFixed(0)} | ${mb(p.rssStartMb)} | ${mb(p.rssMaxMb)} | ${mb(p.heapUsedMaxMb)} | ${mb(p.externalMaxMb)} | ${mb(p.otherMaxMb)} | ${cpu.join(' | ')} |`,
    );
  }
  lines.push('', '| hottest functions (self time) | CPU ms |', '|---|---|');
  for (const [fn, cpu] of hottest) lines.push(`| ${fn} | ${Math.round(cpu)} |`);
  return lines.join('\n');
}
