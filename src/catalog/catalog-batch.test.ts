import { describe, expect, it } from 'vitest';
import { aggregateBatch, MAX_PATH_CHARS, MAX_PATHS_PER_EVENT, TYPE_BITS, typeNames, walkPaths } from './catalog-batch.js';

const paths = (o: Record<string, unknown>) => {
  const out: [string, string[]][] = [];
  walkPaths(o, (p, bit) => out.push([p, typeNames(bit)]));
  return out;
};

describe('walkPaths', () => {
  it('gives each JSON type, dotted paths for nested objects, and does not enter arrays', () => {
    expect(paths({ s: 'x', n: 1.5, i: 2, b: false, z: null, a: [1, { x: 1 }], o: { p: { q: 'deep' } } })).toEqual([
      ['s', ['string']],
      ['n', ['number']],
      ['i', ['number']],
      ['b', ['boolean']],
      ['z', ['null']],
      ['a', ['array']],
      ['o', ['object']],
      ['o.p', ['object']],
      ['o.p.q', ['string']],
    ]);
  });

  it('is bounded: three object levels, MAX_PATHS_PER_EVENT paths, no path over MAX_PATH_CHARS', () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 5000; i++) deep = { d: deep };
    expect(paths(deep).map(([p]) => p)).toEqual(['d', 'd.d', 'd.d.d']);
    const wide = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    expect(paths(wide)).toHaveLength(MAX_PATHS_PER_EVENT);
    expect(paths({ ['x'.repeat(MAX_PATH_CHARS + 1)]: 1, ok: { ['y'.repeat(MAX_PATH_CHARS - 2)]: 1 } }).map(([p]) => p)).toEqual(['ok']);
  });

  it('ignores inherited keys', () => {
    const o = Object.create({ inherited: 1 }) as Record<string, unknown>;
    o.own = 'x';
    expect(paths(o)).toEqual([['own', ['string']]]);
  });
});

describe('aggregateBatch', () => {
  it('counts per (workspace, name) with the earliest and latest receipt, and ORs types per path (drift)', () => {
    const b = aggregateBatch([
      { workspaceId: 'w1', event: 'buy', receivedAt: 30, properties: { total: 10, sku: 'a' } },
      { workspaceId: 'w1', event: 'buy', receivedAt: 10, properties: { total: '10' } },
      { workspaceId: 'w2', event: 'buy', receivedAt: 20, properties: null },
      { workspaceId: 'w1', event: 'buy', receivedAt: 20, properties: { total: null } },
    ]);
    expect(b.events).toEqual([
      { workspaceId: 'w1', name: 'buy', count: 3, firstSeen: 10, lastSeen: 30 },
      { workspaceId: 'w2', name: 'buy', count: 1, firstSeen: 20, lastSeen: 20 },
    ]);
    expect(b.properties).toEqual([
      { workspaceId: 'w1', event: 'buy', path: 'total', types: TYPE_BITS.number | TYPE_BITS.string | TYPE_BITS.null },
      { workspaceId: 'w1', event: 'buy', path: 'sku', types: TYPE_BITS.string },
    ]);
    expect(typeNames(b.properties[0]!.types)).toEqual(['string', 'number', 'null']);
  });
});
