/**
 * Client data of any depth and width through every walk of src/core: validation, item size,
 * messageId canonicalisation and the contact merge. JSON.parse is iterative, so a request
 * body can hold a value nested 10,000 levels deep (~50 KB); JSON.stringify and any recursive
 * walk throw a RangeError long before that (~5,000 levels on Node 20), which used to fail a
 * whole batch with a 500. Nothing here may throw, and every result is checked against an
 * oracle built with the input (no deep `toEqual`: vitest's comparison recurses too).
 */
import { describe, expect, it } from 'vitest';
import { itemByteLength, jsonByteLength } from './item-size.js';
import { canonicalJson, deriveMessageId } from './message-id.js';
import { mergeProperties } from './merge-properties.js';
import type { ItemCode, JsonObject, JsonValue } from './types.js';
import { validateEvent } from './validate-event.js';
import { checkPropertyBag } from './validate-properties.js';
import { seededRandom } from '../testing/random.js';

const NOW = Date.UTC(2025, 0, 1);

/** Deterministic PRNG, so a failure names a reproducible seed. */
const rng = seededRandom;

const SCALARS = ['1', '-2.5', '0', 'true', 'false', 'null', '"x"', '""', JSON.stringify('é😀"\\\n\u2028'), JSON.stringify('\ud800')];

interface Nested {
  /** Compact JSON with object keys in sorted order: what canonicalJson must produce. */
  sorted: string;
  /** The same value with every object's members in shuffled order. */
  shuffled: string;
  /** Container kinds from the outside in. */
  kinds: ('object' | 'array')[];
}

/**
 * A value `depth` containers deep: each level holds `width - 1` scalars and, at a random
 * position among them, the next level (the innermost holds a scalar there). Built as text
 * from the outside in, without recursion.
 */
function nested(depth: number, width: number, next: () => number, kinds?: ('object' | 'array')[]): Nested {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const open: [string, string][] = [];
  const close: [string, string][] = [];
  const ks: ('object' | 'array')[] = [];
  for (let d = 0; d < depth; d++) {
    const kind = kinds?.[d] ?? (next() < 0.5 ? 'object' : 'array');
    ks.push(kind);
    const at = Math.floor(next() * width); // the child's position among `width` members
    const members = Array.from({ length: width }, (_, i) => (i === at ? null : pick(SCALARS)));
    if (kind === 'array') {
      const before = members.slice(0, at) as string[];
      const after = members.slice(at + 1) as string[];
      const o = '[' + before.map((m) => m + ',').join('');
      const c = after.map((m) => ',' + m).join('') + ']';
      open.push([o, o]);
      close.push([c, c]);
    } else {
      // Keys k0000…: zero-padded, so their sorted order is their index order.
      const key = (i: number) => JSON.stringify(`k${String(i).padStart(4, '0')}`);
      const entries = members.map((m, i) => (m === null ? null : `${key(i)}:${m}`));
      const before = entries.slice(0, at) as string[];
      const after = entries.slice(at + 1) as string[];
      const sortedOpen = '{' + before.map((m) => m + ',').join('') + key(at) + ':';
      const sortedClose = after.map((m) => ',' + m).join('') + '}';
      // Shuffled: the child first, then the scalars reversed.
      const shuffledOpen = '{' + key(at) + ':';
      const shuffledClose = [...before, ...after].reverse().map((m) => ',' + m).join('') + '}';
      open.push([sortedOpen, shuffledOpen]);
      close.push([sortedClose, shuffledClose]);
    }
  }
  const leaf = pick(SCALARS);
  const join = (side: 0 | 1) => open.map((p) => p[side]).join('') + leaf + close.map((p) => p[side]).reverse().join('');
  return { sorted: join(0), shuffled: join(1), kinds: ks };
}

/**
 * What validation must say of a bag shaped `kinds` (SPEC.md): it must be an object; an
 * array holding a container is INVALID_ARRAY_ITEM; an object value below level 3 is too deep.
 * Scans the outside-in chain, as the validator meets it in document order.
 */
function expectedBag(kinds: ('object' | 'array')[], label: 'Properties' | 'Traits'): ItemCode | null {
  if (kinds[0] !== 'object') return label === 'Properties' ? 'INVALID_PROPERTIES' : 'INVALID_TRAITS';
  for (let i = 1; i < kinds.length; i++) {
    if (kinds[i] === 'array') return i < kinds.length - 1 ? 'INVALID_ARRAY_ITEM' : null;
    if (i >= 3) return 'PROPERTIES_TOO_DEEP';
  }
  return null;
}

/** Depths 1–64 one by one, then a spread up to 10,000 (around JSON.stringify's limit too). */
const DEPTHS = [
  ...Array.from({ length: 64 }, (_, i) => i + 1),
  100, 1000, 4100, 5000, 7777, 10_000,
];
/** Widths per level; the widest only up to 1,000 levels (30,000 members), to keep the run short. */
const widths = (depth: number): number[] => (depth <= 1000 ? [1, 2, 3, 7, 30] : [1, 2, 5]);

const item = (extra: Record<string, unknown>): Record<string, unknown> => ({ event: 'deep.test', identify: { email: 'deep@example.com' }, ...extra });

function sizeOf(raw: Record<string, unknown>): number {
  const r = validateEvent(raw, NOW);
  if (!r.ok) throw new Error(`expected a valid item, got ${r.error.map((e) => e.code).join(', ')}`);
  const p = r.value.properties === null ? null : JSON.stringify(r.value.properties);
  const t = r.value.traits === null ? null : JSON.stringify(r.value.traits);
  return itemByteLength(raw as JsonObject, p, t);
}

describe('client data of any depth and width', () => {
  it('jsonByteLength and canonicalJson measure and sort without recursion', () => {
    let seed = 1;
    for (const depth of DEPTHS) {
      for (const width of widths(depth)) {
        const n = nested(depth, width, rng(seed++));
        const value = JSON.parse(n.shuffled) as JsonValue;
        expect(jsonByteLength(value), `depth ${depth} width ${width}`).toBe(Buffer.byteLength(n.sorted));
        expect(canonicalJson(value), `depth ${depth} width ${width}`).toBe(n.sorted);
        if (depth <= 1000) expect(jsonByteLength(value)).toBe(Buffer.byteLength(JSON.stringify(value)));
      }
    }
  });

  for (const field of ['properties', 'traits'] as const) {
    it(`${field}: validated to the right error, never thrown`, () => {
      let seed = 1000;
      const label = field === 'properties' ? 'Properties' : 'Traits';
      for (const depth of DEPTHS) {
        for (const width of widths(depth)) {
          // Random kinds, plus the all-object chain (the depth rule) and objects then arrays.
          const shapes = [undefined, Array(depth).fill('object'), ['object', ...Array(depth - 1).fill('array')]];
          for (const kinds of shapes) {
            const n = nested(depth, width, rng(seed++), kinds);
            const bag: unknown = JSON.parse(n.shuffled);
            const want = expectedBag(n.kinds, label);
            const raw = field === 'properties' ? item({ properties: bag }) : item({ identify: { email: 'deep@example.com', traits: bag } });
            const what = `depth ${depth} width ${width} kinds ${n.kinds.slice(0, 5).join(',')}`;
            const r = validateEvent(raw, NOW);
            if (want === null) {
              expect(r.ok, what).toBe(true);
              if (r.ok) expect(deriveMessageId('ws', r.value)).toMatch(/^msg_[0-9a-f]{32}$/);
              // A valid bag is at most 4 containers deep: JSON.stringify is a safe oracle.
              expect(sizeOf(raw), what).toBe(Buffer.byteLength(JSON.stringify(raw)));
            } else {
              expect(r.ok, what).toBe(false);
              if (!r.ok) expect(r.error.map((e) => e.code), what).toEqual([want]);
            }
            // The contact API's check on the same bag agrees.
            const direct = checkPropertyBag(bag, label);
            expect(direct?.code ?? null, what).toBe(want);
          }
        }
      }
    });
  }

  for (const where of ['top-level unknown field', 'unknown field of identify', 'unknown array field'] as const) {
    it(`${where}: ignored, measured exactly, left out of the messageId`, () => {
      let seed = 5000;
      for (const depth of DEPTHS) {
        for (const width of widths(depth)) {
          const n = nested(depth, width, rng(seed++));
          const value: unknown = JSON.parse(n.shuffled);
          const plain = item({ properties: { plan: 'pro' } });
          let raw: Record<string, unknown>;
          let extraBytes: number;
          if (where === 'top-level unknown field') {
            raw = { ...plain, context: value };
            extraBytes = Buffer.byteLength(`,"context":${n.sorted}`);
          } else if (where === 'unknown field of identify') {
            raw = { ...plain, identify: { email: 'deep@example.com', device: value } };
            extraBytes = Buffer.byteLength(`,"device":${n.sorted}`);
          } else {
            raw = { ...plain, list: [1, value, 'z'] };
            extraBytes = Buffer.byteLength(`,"list":[1,${n.sorted},"z"]`);
          }
          const what = `${where} depth ${depth} width ${width}`;
          const r = validateEvent(raw, NOW);
          expect(r.ok, what).toBe(true);
          if (!r.ok) continue;
          expect(sizeOf(raw), what).toBe(Buffer.byteLength(JSON.stringify(plain)) + extraBytes);
          const without = validateEvent(plain, NOW);
          if (without.ok) expect(deriveMessageId('ws', r.value), what).toBe(deriveMessageId('ws', without.value));
        }
      }
    });
  }

  it('wide values: 10,000 members in an object, an array, and both nested', () => {
    const wideObject = `{${Array.from({ length: 10_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    const wideArray = `[${Array.from({ length: 10_000 }, (_, i) => `"v${i}"`).join(',')}]`;
    const both = `[${Array.from({ length: 100 }, () => wideObject.slice(0, 2000).replace(/,[^,]*$/, '}')).join(',')}]`;
    for (const text of [wideObject, wideArray, both]) {
      const value: unknown = JSON.parse(text);
      expect(jsonByteLength(value)).toBe(Buffer.byteLength(text));
      const raw = item({ extra: value });
      expect(sizeOf(raw)).toBe(Buffer.byteLength(JSON.stringify(raw)));
    }
    // As properties: too many keys, or an array too long; no throw.
    expect(checkPropertyBag(JSON.parse(wideObject), 'Properties')?.code).toBe('TOO_MANY_PROPERTIES');
    expect(checkPropertyBag({ a: JSON.parse(wideArray) }, 'Properties')?.code).toBe('ARRAY_TOO_LONG');
  });

  it('the contact merge compares deep values without recursion', () => {
    let seed = 9000;
    for (const depth of DEPTHS) {
      const n = nested(depth, 3, rng(seed++));
      const a = JSON.parse(n.sorted) as JsonValue;
      const b = JSON.parse(n.shuffled) as JsonValue; // equal, other key order
      const state = { properties: { x: a } as JsonObject, clocks: { x: [NOW, 1] as const } };
      const same = mergeProperties(state, { x: b }, [NOW, 1]);
      expect(same.changed, `depth ${depth}`).toBe(false);
      const other = mergeProperties(state, { x: JSON.parse(`[${n.shuffled}]`) as JsonValue }, [NOW, 1]);
      expect(other.changed, `depth ${depth}`).toBe(true);
    }
  });
});
