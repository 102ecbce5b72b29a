// Reading a V8 CPU profile (`node --cpu-prof`) and the CPU of the processes around a service:
// where its event loop spends its time, grouped by the code that does it, and what each of its
// threads, its PostgreSQL backends and a Redis server used in a window.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpuMilliseconds } from './stack.js';

// USER_HZ, the unit of proc(5)'s utime and stime.
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** The format `--cpu-prof` writes (Chrome DevTools protocol, Profiler.Profile). */
export interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds, on the monotonic clock that process.hrtime reads. */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A group of code and how to recognise it by the script URL of a frame; the first match wins. */
export interface Category {
  name: string;
  match: RegExp;
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/**
 * The category of each profile node: its script's, or, for a frame without a script of its own (a
 * V8 builtin such as JSON.stringify, a native binding) or in Node's own `node:` modules, that of
 * the nearest caller that has one in `categories` — so that a socket write made by ioredis is
 * ioredis's. What none claims is `unclaimed`; V8's own entries ("(garbage collector)", "(idle)",
 * "(program)") are their own category.
 */
export function categorise(profile: CpuProfile, categories: Category[], unclaimed: string): (nodeId: number) => string {
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const memo = new Map<number, string | null>();
  const claimed = (id: number): string | null => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const { functionName, url } = (byId.get(id) as ProfileNode).callFrame;
    let result: string | null;
    if (SPECIAL.has(functionName)) result = functionName;
    else {
      const own = url && !url.startsWith('node:') ? categories.find((c) => c.match.test(url))?.name : undefined;
      const up = parent.get(id);
      const inherited = own ?? (up === undefined ? null : claimed(up));
      result = inherited !== null && SPECIAL.has(inherited) ? null : inherited;
    }
    memo.set(id, result);
    return result;
  };
  return (id) => claimed(id) ?? unclaimed;
}

/**
 * Self time in microseconds by `keyOf` over the samples taken between `fromUs` and `toUs` (hrtime,
 * µs); idle samples are left out.
 */
export function selfTime(
  profile: CpuProfile,
  fromUs: number,
  toUs: number,
  keyOf: (nodeId: number, frame: ProfileNode['callFrame']) => string,
): Map<string, number> {
  const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < fromUs || t > toUs) continue;
    const id = profile.samples[i] as number;
    const frame = (byId.get(id) as ProfileNode).callFrame;
    if (frame.functionName === '(idle)') continue;
    const key = keyOf(id, frame);
    // A sample stands for the interval until the next one.
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? delta));
  }
  return totals;
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

/** CPU milliseconds of each thread of `pid` (proc(5): /proc/<pid>/task/<tid>/stat). */
export function threadCpu(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      // Not /proc/<tid>/stat: looked up directly, a thread id shows its whole process.
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(Number(tid), ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return threads;
}

/** CPU milliseconds summed over processes. */
export function processesCpu(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuMilliseconds(pid) ?? 0), 0);
}
