import { describe, expect, it } from 'vitest';
import { eventually } from './eventually.js';

describe('eventually', () => {
  it('resolves with the first value that is not false, null or undefined', async () => {
    const values = [false, null, undefined, 0, 'x'];
    let calls = 0;
    expect(await eventually(() => values[calls++], { timeoutMs: 1000, intervalMs: 1 })).toBe(0);
    expect(calls).toBe(4);
  });

  it('retries while fn throws, and waits for promises', async () => {
    let calls = 0;
    const v = await eventually(
      async () => {
        if (++calls < 3) throw new Error('not yet');
        return { calls };
      },
      { timeoutMs: 1000, intervalMs: 1 },
    );
    expect(v).toEqual({ calls: 3 });
  });

  it('rejects at the deadline naming what it waited for and the last error or value', async () => {
    await expect(eventually(() => false, { timeoutMs: 30, what: 'the queue to drain' })).rejects.toThrow(
      /timed out after 30 ms waiting for the queue to drain \(last value: false\)/,
    );
    await expect(
      eventually(
        () => {
          throw new Error('depth 3');
        },
        { timeoutMs: 30 },
      ),
    ).rejects.toThrow(/last error: depth 3/);
  });
});
