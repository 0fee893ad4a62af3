import { describe, expect, it } from 'vitest';
import { itemByteLength } from './item-size.js';
import type { JsonObject } from './types.js';

const exact = (item: JsonObject) => Buffer.byteLength(JSON.stringify(item));
const fast = (item: JsonObject) => {
  const p = item.properties && typeof item.properties === 'object' && Object.keys(item.properties).length ? JSON.stringify(item.properties) : null;
  const t = (item.identify as JsonObject).traits;
  const tj = t && typeof t === 'object' && Object.keys(t).length ? JSON.stringify(t) : null;
  return itemByteLength(item, p, tj);
};

describe('itemByteLength', () => {
  it('equals the byte length of the compact serialisation', () => {
    const items: JsonObject[] = [
      { event: 'e', identify: { email: 'a@b.co' } },
      { event: 'é:ü', identify: { email: 'ü@b.co', traits: { n: 'Zoë', x: [1, 'ß', null] } }, properties: { '😀': '\u2028"\\' } },
      { event: 'e', identify: { email: 'a@b.co', traits: {}, extra: { z: 1 } }, properties: {}, timestamp: 1e21, messageId: 'm', context: { ip: '1.2.3.4' } },
      { identify: { email: 'a@b.co', traits: null }, properties: null, event: 'e' },
      { event: 'e', identify: { email: 'a@b.co', traits: { a: { b: { c: 1.5e-7 } } } }, properties: { s: 'x'.repeat(1000), arr: Array(100).fill(true) } },
    ];
    for (const item of items) expect(fast(item)).toBe(exact(item));
  });

  it('agrees on random items', () => {
    const rnd = (n: number) => Math.floor(Math.random() * n);
    const str = () => String.fromCodePoint(...Array.from({ length: rnd(12) }, () => [0x41 + rnd(26), 0xe9, 0x1f600, 0x22, 0x5c, 0x0a][rnd(6)]!));
    const val = (d: number): any => {
      const k = rnd(d > 0 ? 6 : 4);
      return k === 0 ? rnd(1e6) / 7 : k === 1 ? str() : k === 2 ? rnd(2) === 0 : k === 3 ? null : k === 4 ? Array.from({ length: rnd(4) }, str) : obj(d - 1);
    };
    const obj = (d: number): JsonObject => Object.fromEntries(Array.from({ length: rnd(5) }, () => [str(), val(d)]));
    for (let i = 0; i < 500; i++) {
      const item: JsonObject = { event: str(), identify: { email: str(), traits: obj(2), ...obj(0) }, properties: obj(2), ...obj(1) };
      expect(fast(item)).toBe(exact(item));
    }
  });
});
