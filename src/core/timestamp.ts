/**
 * The event `timestamp` of SPEC.md: a Unix number (seconds or milliseconds) or a strict
 * ISO 8601 string, within ±30 years of the server clock. Pure: `now` is passed in.
 */
import { LIMITS } from './limits.js';
import type { ItemError, Result } from './types.js';

export const INVALID_TIMESTAMP_MESSAGE = '"timestamp" must be an ISO 8601 string or a Unix timestamp';
export const TIMESTAMP_OUT_OF_RANGE_MESSAGE = 'Timestamp must be within 30 years of the current time';

/*
 * Hand-written on purpose: V8's Date.parse accepts "2024-02-30" (rolled to March 1),
 * "2024" (a numeric string), "Jan 15 2024", and reads a zone-less date-time as local time;
 * SPEC.md allows none of these.
 * Groups: year, month, day, then optionally hour, minute, second, fraction, zone.
 * The zone belongs to the time part: a bare date has no zone and is midnight UTC.
 */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

export function parseTimestamp(value: unknown, now: number): Result<number, ItemError> {
  let ms: number | null;
  if (typeof value === 'number') ms = fromUnixNumber(value);
  else if (typeof value === 'string') ms = fromIso(value);
  else ms = null;

  if (ms === null) return { ok: false, error: { code: 'INVALID_TIMESTAMP', message: INVALID_TIMESTAMP_MESSAGE } };
  // The bound itself is inside the range.
  if (Math.abs(ms - now) > LIMITS.timestampRangeMs) {
    return { ok: false, error: { code: 'TIMESTAMP_OUT_OF_RANGE', message: TIMESTAMP_OUT_OF_RANGE_MESSAGE } };
  }
  return { ok: true, value: ms };
}

/**
 * A date as conditions read it (SPEC.md Part 2: "dates: ISO strings or Unix numbers"): the
 * same two forms and the same seconds/milliseconds rule as an event timestamp, but with no
 * range check, since a contact property such as `birthday` may be any date. Null when the
 * value is neither.
 */
export function parseInstant(value: unknown): number | null {
  if (typeof value === 'number') return fromUnixNumber(value);
  if (typeof value === 'string') return fromIso(value);
  return null;
}

/** Seconds below 1e11 (year 5138 in seconds, 1973 in ms), else milliseconds; kept to the ms. */
function fromUnixNumber(n: number): number | null {
  if (!Number.isFinite(n)) return null;
  // Math.round, not trunc: 1705314600.123 * 1000 is 1705314600122.9998 in binary floating point.
  return n < LIMITS.secondsThreshold ? Math.round(n * 1000) : Math.round(n);
}

function fromIso(s: string): number | null {
  const m = ISO.exec(s);
  if (m === null) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  // Any number of fraction digits, truncated (not rounded) to milliseconds: ".9999" is 999 ms.
  const milli = m[7] === undefined ? 0 : Number((m[7] + '00').slice(0, 3));

  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }

  // setUTCFullYear rather than Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, milli);
  // Round-trip: the Date rolls impossible fields over (Feb 30 → Mar 1, 24:00 → next day,
  // :60 → next minute), so any field that does not come back unchanged was impossible.
  if (
    d.getUTCFullYear() !== year ||
    d.getUTCMonth() !== month - 1 ||
    d.getUTCDate() !== day ||
    d.getUTCHours() !== hour ||
    d.getUTCMinutes() !== minute ||
    d.getUTCSeconds() !== second
  ) {
    return null;
  }
  // Local time = UTC + offset, so UTC = local − offset.
  return d.getTime() - offsetMinutes * 60_000;
}
