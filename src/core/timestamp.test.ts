import { describe, expect, it } from 'vitest';
import { LIMITS } from './limits.js';
import { INVALID_TIMESTAMP_MESSAGE, parseInstant, parseTimestamp, TIMESTAMP_OUT_OF_RANGE_MESSAGE } from './timestamp.js';

const NOW = Date.UTC(2025, 0, 1); // 2025-01-01T00:00:00.000Z
const RANGE = LIMITS.timestampRangeMs;
const JAN_15 = Date.UTC(2024, 0, 15, 10, 30); // 2024-01-15T10:30:00Z = 1705314600 s

function ok(value: unknown, now = NOW): number {
  const r = parseTimestamp(value, now);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(value)} to parse, got ${r.error.code}`);
  return r.value;
}

function errCode(value: unknown, now = NOW): string {
  const r = parseTimestamp(value, now);
  if (r.ok) throw new Error(`expected ${JSON.stringify(value)} to fail, got ${r.value}`);
  return r.error.code;
}

describe('parseTimestamp: numbers', () => {
  it('reads numbers below 100,000,000,000 as Unix seconds', () => {
    expect(ok(1705314600)).toBe(JAN_15);
    expect(ok(0, 0)).toBe(0);
    expect(ok(-1, 0)).toBe(-1000);
  });

  it('keeps fractional seconds to the millisecond, rounded', () => {
    expect(ok(1705314600.123)).toBe(JAN_15 + 123);
    expect(ok(1705314600.5)).toBe(JAN_15 + 500);
    expect(ok(1705314600.0004)).toBe(JAN_15);
    expect(ok(1705314600.0006)).toBe(JAN_15 + 1);
  });

  it('reads numbers at or above 100,000,000,000 as Unix milliseconds, rounded', () => {
    expect(ok(1705314600000)).toBe(JAN_15);
    expect(ok(1705314600000.4)).toBe(JAN_15);
    expect(ok(1705314600000.6)).toBe(JAN_15 + 1);
  });

  it('switches unit exactly at the threshold', () => {
    const t = LIMITS.secondsThreshold;
    // Just below: seconds (year 5138), so only valid with a clock near that time.
    expect(ok(t - 1, (t - 1) * 1000)).toBe((t - 1) * 1000);
    expect(errCode(t - 1, t)).toBe('TIMESTAMP_OUT_OF_RANGE');
    // At the threshold: milliseconds (1973).
    expect(ok(t, t)).toBe(t);
    expect(errCode(t, t * 1000)).toBe('TIMESTAMP_OUT_OF_RANGE');
  });

  it.each([NaN, Infinity, -Infinity])('refuses %s', (n) => {
    expect(errCode(n)).toBe('INVALID_TIMESTAMP');
  });
});

describe('parseTimestamp: range', () => {
  it('allows exactly ±30 years (of 365.25 days) and refuses one millisecond more', () => {
    expect(RANGE).toBe(946_728_000_000);
    expect(ok(NOW + RANGE)).toBe(NOW + RANGE);
    expect(ok(NOW - RANGE)).toBe(NOW - RANGE);
    expect(errCode(NOW + RANGE + 1)).toBe('TIMESTAMP_OUT_OF_RANGE');
    expect(errCode(NOW - RANGE - 1)).toBe('TIMESTAMP_OUT_OF_RANGE');
  });

  it('applies the same bounds to seconds and to strings', () => {
    expect(ok((NOW + RANGE) / 1000)).toBe(NOW + RANGE);
    expect(errCode((NOW + RANGE) / 1000 + 0.001)).toBe('TIMESTAMP_OUT_OF_RANGE');
    expect(ok(new Date(NOW - RANGE).toISOString())).toBe(NOW - RANGE);
    expect(errCode(new Date(NOW - RANGE - 1).toISOString())).toBe('TIMESTAMP_OUT_OF_RANGE');
    expect(ok(new Date(NOW + RANGE).toISOString())).toBe(NOW + RANGE);
    expect(errCode(new Date(NOW + RANGE + 1).toISOString())).toBe('TIMESTAMP_OUT_OF_RANGE');
  });

  it('returns the exact messages', () => {
    expect(parseTimestamp(NOW + RANGE + 1, NOW)).toEqual({
      ok: false,
      error: { code: 'TIMESTAMP_OUT_OF_RANGE', message: 'Timestamp must be within 30 years of the current time' },
    });
    expect(TIMESTAMP_OUT_OF_RANGE_MESSAGE).toBe('Timestamp must be within 30 years of the current time');
    expect(parseTimestamp('nope', NOW)).toEqual({
      ok: false,
      error: { code: 'INVALID_TIMESTAMP', message: '"timestamp" must be an ISO 8601 string or a Unix timestamp' },
    });
    expect(INVALID_TIMESTAMP_MESSAGE).toBe('"timestamp" must be an ISO 8601 string or a Unix timestamp');
  });
});

describe('parseTimestamp: ISO 8601 strings', () => {
  it.each([
    ['2024-01-15', Date.UTC(2024, 0, 15)],
    ['2024-01-15T10:30', JAN_15],
    ['2024-01-15T10:30:00', JAN_15],
    ['2024-01-15T10:30:00Z', JAN_15],
    ['2024-01-15t10:30:00z', JAN_15],
    ['2024-01-15 10:30:00', JAN_15],
    ['2024-01-15 10:30Z', JAN_15],
    ['2024-01-15T10:30:45', JAN_15 + 45_000],
    ['2024-01-15T10:30:00.5Z', JAN_15 + 500],
    ['2024-01-15T10:30:00.05Z', JAN_15 + 50],
    ['2024-01-15T10:30:00.123Z', JAN_15 + 123],
    ['2024-01-15T10:30:00.1239Z', JAN_15 + 123],
    ['2024-01-15T10:30:00.9999999999999Z', JAN_15 + 999],
    ['2024-01-15T10:30:00.000000001Z', JAN_15],
    ['2024-01-15T23:59:59.999Z', Date.UTC(2024, 0, 15, 23, 59, 59, 999)],
    ['2024-01-15T00:00:00Z', Date.UTC(2024, 0, 15)],
  ])('%s', (s, expected) => {
    expect(ok(s)).toBe(expected);
  });

  it('reads zone offsets in every allowed form (local = UTC + offset)', () => {
    const cases: [string, number][] = [
      ['2024-01-15T10:30:00+00:00', JAN_15],
      ['2024-01-15T10:30:00-00:00', JAN_15],
      ['2024-01-15T10:30:00+0000', JAN_15],
      ['2024-01-15T10:30:00+00', JAN_15],
      ['2024-01-15T15:30:00+05:00', JAN_15],
      ['2024-01-15T05:30:00-05:00', JAN_15],
      ['2024-01-15T16:00:00+05:30', JAN_15],
      ['2024-01-15T16:00:00+0530', JAN_15],
      ['2024-01-15T15:30:00+05', JAN_15],
      ['2024-01-15T05:00-0530', JAN_15],
      ['2024-01-16T09:30:00+23:00', JAN_15],
      ['2024-01-15T11:29:00+00:59', JAN_15],
      ['2024-01-15T00:00:00+01:00', Date.UTC(2024, 0, 14, 23)],
    ];
    for (const [s, expected] of cases) expect(ok(s), s).toBe(expected);
  });

  it('accepts leap days only in leap years', () => {
    expect(ok('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(errCode('2023-02-29')).toBe('INVALID_TIMESTAMP');
    expect(ok('2000-02-29', Date.UTC(2000, 0, 1))).toBe(Date.UTC(2000, 1, 29));
    expect(errCode('2100-02-29', Date.UTC(2100, 0, 1))).toBe('INVALID_TIMESTAMP');
  });

  it('checks validity before range: an impossible date far away is INVALID, not OUT_OF_RANGE', () => {
    expect(errCode('1900-02-29')).toBe('INVALID_TIMESTAMP');
    expect(errCode('1900-03-01')).toBe('TIMESTAMP_OUT_OF_RANGE');
  });

  it('reads years below 100 as themselves, not 19xx', () => {
    // 0000-02-29 exists in the proleptic Gregorian calendar (year 0 is a leap year).
    for (const s of ['0000-02-29', '0050-06-01', '0099-12-31T23:59:59Z']) {
      const expected = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s); // strict ISO form: no 19xx mapping
      expect(new Date(expected).getUTCFullYear()).toBe(Number(s.slice(0, 4)));
      expect(ok(s, expected), s).toBe(expected);
    }
  });

  it.each([
    ['day 30 of February', '2024-02-30'],
    ['day 31 of April', '2024-04-31'],
    ['day 00', '2024-01-00'],
    ['day 32', '2024-01-32'],
    ['month 00', '2024-00-15'],
    ['month 13', '2024-13-15'],
    ['hour 24', '2024-01-15T24:00:00Z'],
    ['hour 24 without seconds', '2024-01-15T24:00'],
    ['minute 60', '2024-01-15T10:60:00Z'],
    ['second 60 (leap second)', '2024-12-31T23:59:60Z'],
    ['offset hour 24', '2024-01-15T10:30:00+24:00'],
    ['offset minute 60', '2024-01-15T10:30:00+05:60'],
    ['a numeric string (seconds)', '1705314600'],
    ['a numeric string (ms)', '1705314600000'],
    ['a year alone', '2024'],
    ['a year and month', '2024-01'],
    ['empty', ''],
    ['blank', '   '],
    ['leading space', ' 2024-01-15'],
    ['trailing space', '2024-01-15 '],
    ['trailing newline', '2024-01-15T10:30:00Z\n'],
    ['unpadded month and day', '2024-1-5'],
    ['two-digit year', '24-01-15'],
    ['extended year', '+002024-01-15'],
    ['slashes', '2024/01/15'],
    ['basic format', '20240115T103000Z'],
    ['hour only', '2024-01-15T10'],
    ['single-digit hour', '2024-01-15T9:30'],
    ['empty fraction', '2024-01-15T10:30:00.Z'],
    ['comma fraction', '2024-01-15T10:30:00,5Z'],
    ['fraction without seconds', '2024-01-15T10:30.5Z'],
    ['one-digit offset', '2024-01-15T10:30:00+5'],
    ['three-digit offset', '2024-01-15T10:30:00+053'],
    ['offset with short minutes', '2024-01-15T10:30:00+05:3'],
    ['space before zone', '2024-01-15T10:30:00 Z'],
    ['zone on a bare date', '2024-01-15Z'],
    ['offset on a bare date', '2024-01-15+01:00'],
    ['double zone', '2024-01-15T10:30:00ZZ'],
    ['two spaces as separator', '2024-01-15  10:30'],
    ['tab as separator', '2024-01-15\t10:30'],
    ['other separator', '2024-01-15_10:30'],
    ['full-width digits', '２０２４-01-15'],
    ['Arabic-Indic digits', '٢٠٢٤-01-15'],
    ['RFC 2822', 'Mon, 15 Jan 2024 10:30:00 GMT'],
    ['free text', 'Jan 15 2024'],
    ['now', 'now'],
    ['ISO week date', '2024-W03-1'],
    ['ordinal date', '2024-015'],
    ['zone name', '2024-01-15T10:30:00 UTC'],
  ])('refuses %s', (_name, s) => {
    expect(errCode(s)).toBe('INVALID_TIMESTAMP');
  });
});

describe('parseTimestamp: other types', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['true', true],
    ['false', false],
    ['an object', { seconds: 1705314600 }],
    ['an array', [1705314600]],
    ['a Date', new Date(JAN_15)],
    ['a bigint', 1705314600n],
  ])('refuses %s', (_name, v) => {
    expect(errCode(v)).toBe('INVALID_TIMESTAMP');
  });
});

describe('parseInstant', () => {
  it('reads the same forms as parseTimestamp, with no range check', () => {
    expect(parseInstant(1705314600)).toBe(JAN_15);
    expect(parseInstant(1705314600000)).toBe(JAN_15);
    expect(parseInstant('2024-01-15T10:30:00Z')).toBe(JAN_15);
    expect(parseInstant('1900-01-01')).toBe(Date.UTC(1900, 0, 1));
    expect(parseInstant('2999-12-31T23:59:59.999Z')).toBe(Date.UTC(2999, 11, 31, 23, 59, 59, 999));
  });

  it('is null for anything that is not a date', () => {
    for (const v of ['2024-02-30', '2024', 'Jan 15 2024', '', '1705314600', Number.NaN, Infinity, null, true, {}, []]) {
      expect(parseInstant(v)).toBeNull();
    }
  });
});
