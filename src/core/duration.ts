/**
 * DURATION of SPEC.md Part 2: `<n>s|m|h|d` (`"90s"`, `"2h"`, `"30d"`) or an ISO 8601
 * duration (`"PT2H"`, `"P1D"`, `"P1DT2H30M"`, `"P2W"`), in milliseconds. Used by
 * `performed.within`, the `within_last` operator and workflow `wait` steps. Pure.
 *
 * Decisions where SPEC.md is silent:
 * - The short form takes a whole number and lower-case units only: `"2H"` and `"1.5h"` are
 *   refused rather than guessed (`"1M"` would be ambiguous between minutes and months).
 * - ISO 8601 designators are upper case (`P`, `T`, `W`, `D`, `H`, `M`, `S`) as the
 *   standard writes them; the last component may carry a fraction (`"PT1.5H"`, `"PT0,5S"`),
 *   rounded to the millisecond.
 * - Years and months (`"P1Y"`, `"P1M"`) are refused: their length depends on the calendar,
 *   and a window that silently means 30 or 31 days is worse than an error. Use days.
 * - A duration is greater than zero (a zero window or wait is always a mistake) and at most
 *   3650 days: a bound that keeps every `now - duration` and `now + duration` far inside
 *   the safe-integer range and the ±30-year event clock.
 */

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

export const MAX_DURATION_DAYS = 3650;
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
export const MAX_DURATION_MS = MAX_DURATION_DAYS * DAY;

const SHORT = /^(\d+)([smhd])$/;
const SHORT_UNIT_MS: Record<string, number> = { s: SECOND, m: MINUTE, h: HOUR, d: DAY };

/*
 * Groups: years, months, weeks, days, then after T: hours, minutes, seconds. Each number
 * may have a fraction (`.` or `,`, as ISO 8601 allows); only the last one present may keep
 * it, checked below.
 */
const NUM = '(\\d+(?:[.,]\\d+)?)';
const ISO = new RegExp(`^P(?:${NUM}Y)?(?:${NUM}M)?(?:${NUM}W)?(?:${NUM}D)?(?:T(?:${NUM}H)?(?:${NUM}M)?(?:${NUM}S)?)?$`);
const ISO_UNIT_MS = [0, 0, 7 * DAY, DAY, HOUR, MINUTE, SECOND] as const;

const SYNTAX_HELP = 'use <n>s, <n>m, <n>h or <n>d ("90s", "2h", "30d") or ISO 8601 ("PT2H", "P1D", "P1DT2H30M")';

/** A duration string in milliseconds. Throws DurationError with a message fit for a 400. */
export function parseDuration(input: unknown): number {
  if (typeof input !== 'string') {
    throw new DurationError(`duration must be a string: ${SYNTAX_HELP}`);
  }
  const shown = quote(input);

  let ms: number;
  const short = SHORT.exec(input);
  if (short !== null) {
    ms = Number(short[1]) * (SHORT_UNIT_MS[short[2] as string] as number);
  } else {
    const iso = ISO.exec(input);
    // "P" and "PT" alone match the pattern with nothing in it; a trailing "T" with no time
    // part ("P1DT") is not ISO 8601 either.
    if (iso === null || iso.slice(1).every((g) => g === undefined) || input.endsWith('T')) {
      throw new DurationError(`invalid duration ${shown}: ${SYNTAX_HELP}`);
    }
    if (iso[1] !== undefined || iso[2] !== undefined) {
      throw new DurationError(`invalid duration ${shown}: years and months have no fixed length; use days, e.g. "P30D"`);
    }
    const parts = iso.slice(1);
    let last = -1;
    parts.forEach((g, i) => {
      if (g !== undefined) last = i;
    });
    ms = 0;
    for (let i = 2; i < parts.length; i++) {
      const g = parts[i];
      if (g === undefined) continue;
      const fractional = g.includes('.') || g.includes(',');
      if (fractional && i !== last) {
        throw new DurationError(`invalid duration ${shown}: only the last component may have a fraction`);
      }
      ms += Number(g.replace(',', '.')) * (ISO_UNIT_MS[i] as number);
    }
    ms = Math.round(ms);
  }

  if (!(ms > 0)) throw new DurationError(`invalid duration ${shown}: must be greater than zero`);
  if (ms > MAX_DURATION_MS) {
    throw new DurationError(`invalid duration ${shown}: must be at most ${MAX_DURATION_DAYS} days`);
  }
  return ms;
}

/** The input as JSON, cut so that a 30 KB string does not end up in an error message. */
function quote(s: string): string {
  const cut = s.length > 40 ? `${s.slice(0, 40)}…` : s;
  return JSON.stringify(cut);
}
