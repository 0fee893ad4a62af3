/**
 * The CatalogStore port (catalog/catalog-store.port.ts): counts that add up with first/last
 * seen as min/max, types that only grow, once per batch key (a re-run batch counts nothing,
 * even when both runs race), the limits on names and paths, workspace isolation.
 */
import { describe, expect, it } from 'vitest';
import type { CatalogEventDelta, CatalogLimits, CatalogPropertyDelta } from '../../catalog/catalog-store.port.js';
import type { Store } from '../ports.js';
import { T0, storeFixture, type ContractSuite } from './contract-fixture.js';

const LIMITS: CatalogLimits = { maxEventNames: 500, maxPropertiesPerEvent: 200 };
const BOUNDS = { maxEvents: 500, maxProperties: 200 };
const S = 1; // string
const N = 2; // number
const O = 8; // object

export const catalogContract: ContractSuite = {
  port: 'src/catalog/catalog-store.port.ts',
  run(open) {
    describe('catalog', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      storeFixture(open, (s) => {
        store = s.store;
        wsA = s.wsA;
        wsB = s.wsB;
      });
      const ev = (workspaceId: string, name: string, count: number, firstSeen: number, lastSeen = firstSeen): CatalogEventDelta => ({ workspaceId, name, count, firstSeen, lastSeen });
      const prop = (workspaceId: string, event: string, path: string, types: number): CatalogPropertyDelta => ({ workspaceId, event, path, types });
      const record = (batchKey: string, events: CatalogEventDelta[], properties: CatalogPropertyDelta[] = [], limits = LIMITS) =>
        store.catalog.record({ batchKey, events, properties, limits, now: T0 });

      it('adds counts, keeps the earliest first and latest last seen, ORs types; lists by name and path', async () => {
        expect(await record('b1', [ev(wsA, 'signup', 2, T0 + 10, T0 + 20), ev(wsA, 'buy', 1, T0)], [prop(wsA, 'signup', 'plan', S), prop(wsA, 'buy', 'cart', O), prop(wsA, 'buy', 'cart.total', N)])).toEqual({
          applied: true,
          stored: [S, O, N],
        });
        expect(await record('b2', [ev(wsA, 'signup', 3, T0 + 5, T0 + 15)], [prop(wsA, 'signup', 'plan', N), prop(wsA, 'signup', 'age', N)])).toEqual({ applied: true, stored: [S | N, N] });
        expect(await store.catalog.list(wsA, BOUNDS)).toEqual([
          { name: 'buy', firstSeen: T0, lastSeen: T0, count: 1, propertiesTruncated: false, properties: [{ path: 'cart', types: O }, { path: 'cart.total', types: N }] },
          { name: 'signup', firstSeen: T0 + 5, lastSeen: T0 + 20, count: 5, propertiesTruncated: false, properties: [{ path: 'age', types: N }, { path: 'plan', types: S | N }] },
        ]);
        expect(await store.catalog.list(wsB, BOUNDS)).toEqual([]);
      });

      it('records a batch key once: a second run writes nothing, even with other contents, even racing the first', async () => {
        expect((await record('merge:7', [ev(wsA, 'signup', 2, T0)], [prop(wsA, 'signup', 'plan', S)])).applied).toBe(true);
        expect(await record('merge:7', [ev(wsA, 'signup', 2, T0 - 1)], [prop(wsA, 'signup', 'plan', N)])).toEqual({ applied: false, stored: [] });
        const racing = await Promise.all([1, 2, 3].map(() => record('merge:8', [ev(wsA, 'signup', 1, T0 + 1), ev(wsB, 'signup', 1, T0)], [prop(wsA, 'signup', 'x', N)])));
        expect(racing.filter((r) => r.applied)).toHaveLength(1);
        const [a] = await store.catalog.list(wsA, BOUNDS);
        expect(a).toMatchObject({ count: 3, firstSeen: T0, lastSeen: T0 + 1, properties: [{ path: 'plan', types: S }, { path: 'x', types: N }] });
        expect((await store.catalog.list(wsB, BOUNDS))[0]).toMatchObject({ name: 'signup', count: 1 });
      });

      it('keeps no more names per workspace nor paths per name than the limits, and marks an event that lost a path', async () => {
        const small = { maxEventNames: 2, maxPropertiesPerEvent: 2 };
        await record('l1', [ev(wsA, 'a', 1, T0), ev(wsA, 'b', 1, T0)], [prop(wsA, 'a', 'p1', S)], small);
        const r = await record('l2', [ev(wsA, 'c', 1, T0), ev(wsA, 'a', 1, T0), ev(wsB, 'c', 1, T0)], [prop(wsA, 'c', 'p', S), prop(wsA, 'a', 'p2', S), prop(wsA, 'a', 'p3', N), prop(wsA, 'a', 'p1', N)], small);
        expect(r).toEqual({ applied: true, stored: [0, S, 0, S | N] });
        const a = await store.catalog.list(wsA, BOUNDS);
        expect(a.map((e) => [e.name, e.count, e.propertiesTruncated])).toEqual([
          ['a', 2, true],
          ['b', 1, false],
        ]);
        expect(a[0]!.properties).toEqual([{ path: 'p1', types: S | N }, { path: 'p2', types: S }]);
        // The limit is per workspace: beta's first name is kept.
        expect((await store.catalog.list(wsB, BOUNDS)).map((e) => e.name)).toEqual(['c']);
        // Known names still count once the workspace is full.
        await record('l3', [ev(wsA, 'b', 4, T0 + 9)], [], small);
        expect((await store.catalog.list(wsA, BOUNDS))[1]).toMatchObject({ name: 'b', count: 5, lastSeen: T0 + 9 });
        // The read is bounded by its own limits.
        expect((await store.catalog.list(wsA, { maxEvents: 1, maxProperties: 1 })).map((e) => [e.name, e.properties.length])).toEqual([['a', 1]]);
      });

      it('purgeBatches forgets keys recorded before the cutoff, oldest first, up to its limit', async () => {
        await store.catalog.record({ batchKey: 'older', events: [ev(wsA, 'a', 1, T0)], properties: [], limits: LIMITS, now: T0 - 1 });
        await store.catalog.record({ batchKey: 'old', events: [ev(wsA, 'a', 1, T0)], properties: [], limits: LIMITS, now: T0 });
        await store.catalog.record({ batchKey: 'new', events: [ev(wsA, 'a', 1, T0)], properties: [], limits: LIMITS, now: T0 + 1000 });
        expect(await store.catalog.purgeBatches(T0 + 1, 1)).toBe(1);
        expect((await store.catalog.record({ batchKey: 'older', events: [ev(wsA, 'a', 1, T0)], properties: [], limits: LIMITS, now: T0 + 2000 })).applied).toBe(true);
        expect(await store.catalog.purgeBatches(T0 + 1, 10)).toBe(1);
        expect((await store.catalog.record({ batchKey: 'new', events: [ev(wsA, 'a', 1, T0)], properties: [], limits: LIMITS, now: T0 + 2000 })).applied).toBe(false);
        expect((await store.catalog.record({ batchKey: 'old', events: [ev(wsA, 'a', 1, T0)], properties: [], limits: LIMITS, now: T0 + 2000 })).applied).toBe(true);
      });
    });
  },
};
