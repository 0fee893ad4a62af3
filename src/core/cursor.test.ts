import { describe, expect, it } from 'vitest';
import { decodeContactCursor, decodeEventCursor, encodeContactCursor, encodeEventCursor } from './cursor.js';

const raw = (json: string) => Buffer.from(json).toString('base64url');

describe('paging cursors', () => {
  it('round-trip what the server issues', () => {
    for (const c of [{ timestamp: 0, seq: 1 }, { timestamp: Date.UTC(2025, 0, 1), seq: 123_456 }, { timestamp: 2 ** 53 - 1, seq: 2 ** 53 - 1 }]) {
      expect(decodeEventCursor(encodeEventCursor(c))).toEqual(c);
    }
    const c = { createdAt: Date.UTC(2025, 0, 1), id: '3f0c1d2e-9a4b-4c5d-8e6f-0123456789ab' };
    expect(decodeContactCursor(encodeContactCursor(c))).toEqual(c);
  });

  it('refuse anything a keyset column cannot hold exactly', () => {
    for (const n of ['1.5', '1e300', '-1', '9007199254740992', '"1"', 'null', 'true', '[]']) {
      expect(decodeEventCursor(raw(`[${n},1]`)), n).toBeNull();
      expect(decodeEventCursor(raw(`[1,${n}]`)), n).toBeNull();
      expect(decodeContactCursor(raw(`[${n},"id"]`)), n).toBeNull();
    }
    for (const id of ['1', '""', '"a\\u0000"', `"${'x'.repeat(129)}"`, 'null']) expect(decodeContactCursor(raw(`[1,${id}]`)), id).toBeNull();
    for (const s of ['', '%%%', 'ab$cd', 'A'.repeat(513), raw('[1,2,3]'), raw('{}'), raw('nope')]) expect(decodeEventCursor(s), s).toBeNull();
  });
});
