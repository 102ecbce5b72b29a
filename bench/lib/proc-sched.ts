// Where a process's threads spent their time, from the kernel's scheduler statistics: for each
// thread, the CPU time it ran and the time it sat runnable in a run queue, waiting for a CPU
// (proc(5), /proc/<pid>/task/<tid>/schedstat: "time spent on the cpu", "time spent waiting on a
// runqueue", both in nanoseconds). A request slowed by CPU contention shows up as run-queue wait
// of the threads that serve it; one held by a lock does not (a thread blocked on a socket waits
// for nothing in a run queue).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface SchedTimes {
  /** Milliseconds on a CPU, and runnable but waiting for one. */
  cpuMs: number;
  runQueueMs: number;
}

export const noTimes = (): SchedTimes => ({ cpuMs: 0, runQueueMs: 0 });

export function addTimes(into: SchedTimes, more: SchedTimes): SchedTimes {
  into.cpuMs += more.cpuMs;
  into.runQueueMs += more.runQueueMs;
  return into;
}

export function subtractTimes(later: SchedTimes, earlier: SchedTimes): SchedTimes {
  return { cpuMs: later.cpuMs - earlier.cpuMs, runQueueMs: later.runQueueMs - earlier.runQueueMs };
}

// Clock ticks per second of /proc/stat (USER_HZ: 100 on every mainstream Linux).
const USER_HZ = 100;

/**
 * The whole machine: CPU time all processes used (proc(5), /proc/stat's first line: user, nice,
 * system, irq, softirq and steal), and how many threads are runnable right now (/proc/loadavg's
 * fourth field, before the slash): the queue a thread joins when it wants a CPU.
 */
export function machineTimes(): { cpuMs: number; runnable: number } {
  const [user, nice, system, , , irq, softirq, steal] =
    readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const runnable = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[0]);
  const busy = [user, nice, system, irq, softirq, steal].reduce((a: number, b) => a + (b ?? 0), 0);
  return { cpuMs: (busy * 1000) / USER_HZ, runnable };
}

/** One thread's (or a single-threaded process's) times; undefined once it has exited. */
export function threadTimes(pid: number, tid: number = pid): SchedTimes | undefined {
  try {
    const [cpu, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
    return { cpuMs: Number(cpu) / 1e6, runQueueMs: Number(wait) / 1e6 };
  } catch {
    return undefined;
  }
}

/** A thread's nice value (proc(5), field 19 of /proc/<pid>/task/<tid>/stat): a per-thread attribute on Linux. */
export function threadNice(pid: number, tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  } catch {
    return undefined;
  }
}

export function threadIds(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
}

/** The first child of a process (the node process GNU time started). */
export function childOf(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The local TCP ports of a process's sockets: which PostgreSQL backends are its connections
 * (pg_stat_activity.client_port is the client's end). proc(5): /proc/net/tcp{,6} lists sockets by
 * inode, /proc/<pid>/fd links to socket:[inode].
 */
export function localPorts(pid: number): Set<number> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (link.startsWith('socket:[')) inodes.add(link.slice(8, -1));
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return new Set();
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // fields: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (fields.length > 9 && inodes.has(fields[9] as string)) ports.add(Number.parseInt((fields[1] as string).split(':')[1] as string, 16));
    }
  }
  return ports;
}
