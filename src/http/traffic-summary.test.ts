import { describe, expect, it } from 'vitest';
import { formatSummary } from './traffic-summary.js';

describe('traffic summary', () => {
  it('reads like the operator issue asked', () => {
    expect(formatSummary({ ingested: 1234, rejected: 3, duplicate: 12, processed: 1230, queue: 4, lagSeconds: 0.23 })).toBe(
      'ingested 1,234 events (3 rejected, 12 duplicate), processed 1,230, queue 4, lag 0.2 s',
    );
    expect(formatSummary({ ingested: 1, rejected: 0, duplicate: 0, processed: 0 })).toBe('ingested 1 events (0 rejected, 0 duplicate), processed 0');
  });
});
