import { describe, expect, it } from 'vitest';
import { batchBodyBytes, computeBackoff, isRetryableStatus, parseRetryAfter, planBatch, TRACKER_LIMITS, utf8ByteLength } from '../src/index.js';

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('60')).toBe(60_000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    expect(parseRetryAfter('1.5')).toBe(1_500);
  });
  it('reads an HTTP date relative to now', () => {
    const now = Date.parse('2024-01-15T10:30:00Z');
    expect(parseRetryAfter('Mon, 15 Jan 2024 10:30:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 15 Jan 2024 10:29:00 GMT', now)).toBe(0);
  });
  it('ignores absent and invalid values', () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('-5')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('computeBackoff', () => {
  const opts = { baseDelay: 500, maxDelay: 30_000 };
  it('doubles per retry between half and all of the window, capped', () => {
    const lo = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => computeBackoff(n, opts, () => 0));
    const hi = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => computeBackoff(n, opts, () => 1));
    expect(hi).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(lo).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
  });
  it('jitters within the window', () => {
    for (let i = 0; i < 200; i++) {
      const d = computeBackoff(3, opts);
      expect(d).toBeGreaterThanOrEqual(1_000);
      expect(d).toBeLessThanOrEqual(2_000);
    }
  });
  it('survives huge retry counts', () => {
    expect(computeBackoff(10_000, opts, () => 1)).toBe(30_000);
  });
});

describe('isRetryableStatus (STYLE rule 7)', () => {
  it('retries 408, 429 and 5xx only', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 405, 409, 413, 415, 422].some(isRetryableStatus)).toBe(false);
  });
});

describe('batch planning', () => {
  it('caps at 200 events', () => {
    const items = Array.from({ length: 450 }, () => ({ bytes: 100 }));
    expect(planBatch(items, 200, TRACKER_LIMITS.maxBatchBytes)).toBe(200);
    expect(planBatch(items.slice(400), 200, TRACKER_LIMITS.maxBatchBytes)).toBe(50);
  });
  it('caps the body at 6,553,600 bytes, counting envelope and commas', () => {
    const items = Array.from({ length: 200 }, () => ({ bytes: 32_768 }));
    const n = planBatch(items, 200, TRACKER_LIMITS.maxBatchBytes);
    // 13 bytes of envelope + n items + (n - 1) commas must fit: n = 199.
    expect(n).toBe(199);
    expect(batchBodyBytes(items.slice(0, n))).toBeLessThanOrEqual(6_553_600);
    expect(batchBodyBytes(items.slice(0, n + 1))).toBeGreaterThan(6_553_600);
  });
  it('always takes at least one event', () => {
    expect(planBatch([{ bytes: 32_768 }], 200, 100)).toBe(1);
    expect(planBatch([], 200, 100)).toBe(0);
  });
  it('matches the real body size', () => {
    const jsons = ['{"a":1}', '{"b":"é"}', '{"c":"😀"}'];
    const items = jsons.map((j) => ({ bytes: utf8ByteLength(j) }));
    expect(batchBodyBytes(items)).toBe(Buffer.byteLength(`{"events":[${jsons.join(',')}]}`));
  });
});

describe('utf8ByteLength', () => {
  it('agrees with Buffer.byteLength', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a😀b€é', JSON.stringify({ x: '\u{10FFFF}\u0800\u07FF' })]) {
      expect(utf8ByteLength(s)).toBe(Buffer.byteLength(s));
    }
  });
});
