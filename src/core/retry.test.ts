import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './retry.js';

describe('retryDelayMs', () => {
  it('doubles per attempt, within [exp/2, exp]', () => {
    expect(retryDelayMs(1, 1000, 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 0.999999)).toBe(1000);
    expect(retryDelayMs(2, 1000, 0)).toBe(1000);
    expect(retryDelayMs(3, 1000, 0)).toBe(2000);
  });
  it('caps at one hour', () => {
    expect(retryDelayMs(50, 1000, 0.999999)).toBeLessThanOrEqual(3_600_000);
    expect(retryDelayMs(50, 1000, 0.999999)).toBeGreaterThan(3_599_000);
    expect(retryDelayMs(50, 1000, 0)).toBe(1_800_000);
  });
});
