// Laravel's app.timezone as the import reads it: IANA names with their daylight-saving history,
// fixed offsets, and the hour that happens twice or never when the clocks change.
import t from 'tap';
import { sourceTimeZone } from '../../src/passport/source-time-zone.js';

const iso = (d: Date | null) => d?.toISOString() ?? null;

t.test('America/Sao_Paulo: -02:00 in the 2018 summer (daylight saving until 2019), -03:00 now', async (t) => {
  const zone = sourceTimeZone('America/Sao_Paulo');
  t.equal(iso(zone.fromWallClock('2018-01-15 12:00:00')), '2018-01-15T14:00:00.000Z');
  t.equal(iso(zone.fromWallClock('2018-07-15 12:00:00')), '2018-07-15T15:00:00.000Z');
  t.equal(iso(zone.fromWallClock('2026-01-15 12:00:00')), '2026-01-15T15:00:00.000Z', 'no daylight saving since 2019');
  t.equal(zone.offsetAt(new Date('2018-01-15T14:00:00Z')), '-02:00');
  t.equal(zone.offsetAt(new Date('2026-01-15T15:00:00Z')), '-03:00');
  t.equal(zone.wallClock(new Date('2018-01-15T14:00:00.999Z')), '2018-01-15 12:00:00');
  t.equal(iso(zone.fromWallClock('2026-12-03 09:30:15.250000')), '2026-12-03T12:30:15.250Z', 'fractional seconds kept');
});

t.test('America/New_York: the skipped hour moves forward, the repeated hour reads as its first (earlier) instant', async (t) => {
  const zone = sourceTimeZone('America/New_York');
  // 2026-03-08: 02:00 EST → 03:00 EDT; 02:30 does not exist (PHP reads it as 03:30 EDT).
  t.equal(iso(zone.fromWallClock('2026-03-08 02:30:00')), '2026-03-08T07:30:00.000Z');
  t.equal(iso(zone.fromWallClock('2026-03-08 03:30:00')), '2026-03-08T07:30:00.000Z');
  // 2026-11-01: 02:00 EDT → 01:00 EST; 01:30 happens at 05:30Z and at 06:30Z.
  t.equal(iso(zone.fromWallClock('2026-11-01 01:30:00')), '2026-11-01T05:30:00.000Z');
  t.equal(iso(zone.fromWallClock('2026-11-01 02:30:00')), '2026-11-01T07:30:00.000Z');
  t.equal(zone.wallClock(new Date('2026-11-01T06:30:00Z')), '2026-11-01 01:30:00');
});

t.test('fixed offsets and UTC', async (t) => {
  t.equal(iso(sourceTimeZone('-03:00').fromWallClock('2018-01-15 12:00:00')), '2018-01-15T15:00:00.000Z', 'an offset ignores daylight saving');
  t.equal(iso(sourceTimeZone('+0530').fromWallClock('2026-01-01 05:30:00')), '2026-01-01T00:00:00.000Z');
  for (const utc of ['Z', 'UTC', 'utc']) t.equal(iso(sourceTimeZone(utc).fromWallClock('2026-01-01 00:00:00')), '2026-01-01T00:00:00.000Z');
  t.equal(sourceTimeZone('-03:00').offsetAt(new Date()), '-03:00');
  t.equal(sourceTimeZone('Z').offsetAt(new Date()), '+00:00');
  t.equal(sourceTimeZone('UTC').fromWallClock('not a date'), null);
});

t.test('a zone that is neither is refused with what is accepted', async (t) => {
  t.throws(
    () => sourceTimeZone('America/Sao Paulo'),
    /IANA name such as America\/Sao_Paulo, UTC, or an offset such as -03:00 \(got "America\/Sao Paulo"\)/,
  );
  t.throws(() => sourceTimeZone('-03'), /got "-03"/);
  t.throws(() => sourceTimeZone('+25:00'), /out of range/);
});
