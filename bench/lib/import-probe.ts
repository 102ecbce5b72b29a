// What a reseller and an operator see while an import runs: one request at a time against the
// running service, about every 50 ms, each timed. Samples taken before the import starts are the
// baseline (this loaded machine's own noise); a sample's wait is its time beyond that baseline's
// median, so what remains is what the import made it wait (a lock, or the CPU it took).
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProbeSample {
  kind: string;
  /** performance.now() at the request's start and end. */
  start: number;
  end: number;
  status: number;
}

/** One request of a kind; answers the HTTP status (0: no answer). */
export type ProbeRequest = () => Promise<number>;

export interface Probe {
  /** Adds a kind, or replaces what it sends, from the next round on. */
  set(kind: string, request: ProbeRequest): void;
  remove(kind: string): void;
  /** Resolves once every kind has `count` samples that ended after `since`. */
  sampled(since: number, count: number): Promise<void>;
  samples(): ProbeSample[];
  stop(): Promise<void>;
}

const GAP_MS = 50;

export function startProbe(requests: Record<string, ProbeRequest>): Probe {
  const kinds = new Map(Object.entries(requests));
  const samples: ProbeSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const [kind, request] of kinds) {
        const start = performance.now();
        const status = await request().catch(() => 0);
        samples.push({ kind, start, end: performance.now(), status });
        await sleep(GAP_MS);
      }
    }
  })();
  return {
    set: (kind, request) => kinds.set(kind, request),
    remove: (kind) => kinds.delete(kind),
    async sampled(since, count) {
      const enough = () => [...kinds.keys()].every((kind) => samples.filter((s) => s.kind === kind && s.end > since).length >= count);
      while (!enough()) {
        if (!running) throw new Error('the probe stopped');
        await sleep(GAP_MS);
      }
    },
    samples: () => samples,
    async stop() {
      running = false;
      await loop;
    },
  };
}

export interface WaitSummary {
  kind: string;
  baselineMs: number;
  count: number;
  p99WaitMs: number;
  maxWaitMs: number;
  /** Answers that were not 2xx. */
  failures: number;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

/**
 * Per kind: the baseline, the median of the samples within [baselineFrom, baselineTo) (default:
 * up to `from`), and the waits of the samples that overlap [from, to].
 */
export function summariseWaits(samples: ProbeSample[], baselineFrom: number, from: number, to: number, baselineTo = from): WaitSummary[] {
  const kinds = [...new Set(samples.filter((s) => s.end >= from && s.start <= to).map((s) => s.kind))];
  return kinds.map((kind) => {
    const own = samples.filter((s) => s.kind === kind);
    const baselineMs = percentile(
      own.filter((s) => s.start >= baselineFrom && s.end < baselineTo).map((s) => s.end - s.start),
      50,
    );
    const during = own.filter((s) => s.end >= from && s.start <= to);
    const waits = during.map((s) => Math.max(0, s.end - s.start - baselineMs));
    return {
      kind,
      baselineMs,
      count: during.length,
      p99WaitMs: percentile(waits, 99),
      maxWaitMs: waits.length ? Math.max(...waits) : Number.NaN,
      failures: during.filter((s) => s.status < 200 || s.status > 299).length,
    };
  });
}

/** A password grant (RFC 6749 §4.3.2) as a reseller's software sends it. */
export function passwordGrant(publicUrl: string, login: { clientId: string; clientSecret: string; email: string; password: string }): ProbeRequest {
  return async () => {
    const res = await fetch(`${publicUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'password',
        client_id: login.clientId,
        client_secret: login.clientSecret,
        username: login.email,
        password: login.password,
        scope: '',
      }),
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
    return res.status;
  };
}

/** The panel's Salvar on one reseller, the name changed each time so that every save writes. */
export function adminSave(adminUrl: string, adminToken: string, reseller: { resellerId: string; email: string }): ProbeRequest {
  let round = 0;
  return async () => {
    round += 1;
    const res = await fetch(`${adminUrl}/admin/resellers/${encodeURIComponent(reseller.resellerId)}/api`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ name: `Benchmark reseller ${round % 2}`, email: reseller.email, allowedIp: '127.0.0.0/8' }),
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
    return res.status;
  };
}
