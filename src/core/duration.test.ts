import { describe, expect, it } from 'vitest';
import { DurationError, MAX_DURATION_MS, parseDuration } from './duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

function fails(input: unknown): string {
  try {
    parseDuration(input);
  } catch (e) {
    expect(e).toBeInstanceOf(DurationError);
    return (e as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe('parseDuration: short form', () => {
  it('reads seconds, minutes, hours and days', () => {
    expect(parseDuration('90s')).toBe(90 * S);
    expect(parseDuration('1s')).toBe(S);
    expect(parseDuration('15m')).toBe(15 * M);
    expect(parseDuration('2h')).toBe(2 * H);
    expect(parseDuration('30d')).toBe(30 * D);
    expect(parseDuration('007m')).toBe(7 * M);
  });

  it('refuses upper-case units, fractions, signs, spaces and unknown units', () => {
    for (const bad of ['2H', '1.5h', '-1h', '+1h', ' 2h', '2h ', '2 h', 'h', '2', '2w', '2y', '2ms', '1h30m', '']) {
      expect(fails(bad)).toContain('invalid duration');
    }
  });
});

describe('parseDuration: ISO 8601', () => {
  it('reads every allowed component and their combinations', () => {
    expect(parseDuration('PT2H')).toBe(2 * H);
    expect(parseDuration('P1D')).toBe(D);
    expect(parseDuration('P1DT2H30M')).toBe(D + 2 * H + 30 * M);
    expect(parseDuration('PT45S')).toBe(45 * S);
    expect(parseDuration('PT1M')).toBe(M);
    expect(parseDuration('P2W')).toBe(14 * D);
    expect(parseDuration('P1W2D')).toBe(9 * D);
    expect(parseDuration('P1DT1H1M1S')).toBe(D + H + M + S);
    expect(parseDuration('PT36H')).toBe(36 * H);
  });

  it('takes a fraction (dot or comma) on the last component only, rounded to the ms', () => {
    expect(parseDuration('PT1.5H')).toBe(1.5 * H);
    expect(parseDuration('PT0,5S')).toBe(500);
    expect(parseDuration('PT1.0006S')).toBe(1001);
    expect(fails('PT1.5H30M')).toContain('only the last component may have a fraction');
  });

  it('refuses years and months with a hint to use days', () => {
    expect(fails('P1M')).toBe('invalid duration "P1M": years and months have no fixed length; use days, e.g. "P30D"');
    expect(fails('P1Y')).toContain('years and months');
    expect(fails('P1Y2D')).toContain('years and months');
  });

  it('refuses malformed ISO strings', () => {
    for (const bad of ['P', 'PT', 'P1DT', 'pt2h', 'PT2h', 'P2H', 'T2H', 'PT2H30', 'P1D2W', 'PT-1H', 'P1.5D1H', 'PT1H ']) {
      expect(fails(bad)).toContain('invalid duration');
    }
  });
});

describe('parseDuration: bounds and types', () => {
  it('refuses zero, in both syntaxes', () => {
    expect(fails('0s')).toBe('invalid duration "0s": must be greater than zero');
    expect(fails('PT0S')).toContain('greater than zero');
    // Rounds to 0 ms.
    expect(fails('PT0.0004S')).toContain('greater than zero');
  });

  it('allows exactly 3650 days and refuses one millisecond more', () => {
    expect(parseDuration('3650d')).toBe(MAX_DURATION_MS);
    expect(parseDuration('P3650D')).toBe(MAX_DURATION_MS);
    expect(fails('3651d')).toBe('invalid duration "3651d": must be at most 3650 days');
    expect(fails('PT315360000.001S')).toContain('at most 3650 days');
    expect(fails('9'.repeat(400) + 'd')).toContain('at most 3650 days');
  });

  it('refuses non-strings with the syntax in the message', () => {
    for (const bad of [90, null, undefined, {}, ['2h'], true]) {
      expect(fails(bad)).toBe(
        'duration must be a string: use <n>s, <n>m, <n>h or <n>d ("90s", "2h", "30d") or ISO 8601 ("PT2H", "P1D", "P1DT2H30M")',
      );
    }
  });

  it('cuts a long input in the message', () => {
    const msg = fails('x'.repeat(10_000));
    expect(msg.length).toBeLessThan(200);
    expect(msg).toContain('…');
  });
});
