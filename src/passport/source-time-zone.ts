// Laravel writes its zone-less timestamps (expires_at, …) as wall-clock time in
// config('app.timezone'): an IANA name such as America/Sao_Paulo, whose offset changes with
// daylight saving time (São Paulo was -02:00 in its summers until 2019), or a fixed offset. Each
// value is read with the offset that zone had at that instant, not with today's.
export interface SourceTimeZone {
  /** As given: `Z`, `-03:00` or an IANA name. */
  readonly name: string;
  /** The wall-clock time (`YYYY-MM-DD HH:MM:SS`) of `date` in this zone. */
  wallClock(date: Date): string;
  /** `±HH:MM` in force at `date`. */
  offsetAt(date: Date): string;
  /** The instant a wall-clock value of this zone denotes; null when it is not a date. */
  fromWallClock(value: string): Date | null;
}

const FIXED = /^([+-])(\d{2}):?(\d{2})$/;
const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?$/;
const DAY_MS = 86_400_000;

function formatOffset(minutes: number): string {
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** Minutes east of UTC at `ms`, for an IANA zone, from what Intl says the wall clock shows. */
function ianaOffset(format: Intl.DateTimeFormat, ms: number): number {
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60_000);
}

function offsetFunction(value: string): (ms: number) => number {
  if (value === 'Z' || value.toUpperCase() === 'UTC') return () => 0;
  const fixed = FIXED.exec(value);
  if (fixed) {
    const minutes = Number(fixed[2]) * 60 + Number(fixed[3]);
    if (Number(fixed[2]) > 14 || Number(fixed[3]) > 59) throw new Error(`the source time zone offset "${value}" is out of range`);
    return fixed[1] === '-' ? () => -minutes : () => minutes;
  }
  // Newer Intl (ECMA-402 offset time zones, Node.js 24) takes "-03" too, older not: an offset is
  // ±HH:MM here on every runtime, never left to Intl.
  let format: Intl.DateTimeFormat;
  try {
    if (/^[+-]/.test(value)) throw new RangeError('not an IANA name');
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: value,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    throw new Error(
      `the source time zone must be Laravel's app.timezone: an IANA name such as America/Sao_Paulo, UTC, or an offset such as -03:00 (got "${value}")`,
    );
  }
  return (ms) => ianaOffset(format, ms);
}

export function sourceTimeZone(value: string): SourceTimeZone {
  const offset = offsetFunction(value);
  return {
    name: value,
    wallClock: (date) => new Date(date.getTime() + offset(date.getTime()) * 60_000).toISOString().slice(0, 19).replace('T', ' '),
    offsetAt: (date) => formatOffset(offset(date.getTime())),
    fromWallClock(text) {
      const m = WALL_CLOCK.exec(text);
      if (!m) {
        const date = new Date(text);
        return Number.isNaN(date.getTime()) ? null : date;
      }
      const millis = Math.floor(Number(m[7] ?? 0) * 1000);
      const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), millis);
      if (Number.isNaN(wall)) return null;
      // The offsets in force a day either side; a wall-clock time is one of them, or both (the
      // repeated hour when clocks go back: the earlier instant, so an expiry is never extended),
      // or neither (the hour skipped when clocks go forward: read with the offset before it, as
      // PHP's DateTime does, which moves it forward by the skipped hour).
      const before = offset(wall - DAY_MS);
      const after = offset(wall + DAY_MS);
      const candidates = [...new Set([before, after])].map((o) => wall - o * 60_000).filter((ms) => wall - offset(ms) * 60_000 === ms);
      return new Date(candidates.length > 0 ? Math.min(...candidates) : wall - before * 60_000);
    },
  };
}
