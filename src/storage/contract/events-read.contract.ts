/**
 * The EventReader port (events-read/event-reader.port.ts): get by messageId, list with
 * filters and keyset paging. Run on every adapter by runStoreContract (store.contract.ts).
 */
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../events-read/event-reader.port.js';
import type { Store } from '../ports.js';
import { T0, storeFixture, type ContractSuite, listEvents } from './contract-fixture.js';

export const eventsReadContract: ContractSuite = {
  port: 'src/events-read/event-reader.port.ts',
  run(open) {
    describe('events: list', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      const { ev, append } = storeFixture(open, (f) => {
        store = f.store;
        wsA = f.wsA;
        wsB = f.wsB;
      });

      it('orders by event time, newest first, ties by acceptance, newest first', async () => {
        await append([ev(wsA, 'a', { timestamp: T0 }), ev(wsA, 'b', { timestamp: T0 + 5 }), ev(wsA, 'c', { timestamp: T0 })]);
        await append([ev(wsA, 'd', { timestamp: T0 }), ev(wsA, 'e', { timestamp: T0 - 5 })], T0 + 1);
        const list = await listEvents(store, { workspaceId: wsA, limit: 10 });
        expect(list.map((e) => e.messageId)).toEqual(['b', 'd', 'c', 'a', 'e']);
      });

      it('filters by since (inclusive), until (exclusive), email and event', async () => {
        await append([
          ev(wsA, 'a', { timestamp: T0 - 1 }),
          ev(wsA, 'b', { timestamp: T0 }),
          ev(wsA, 'c', { timestamp: T0 + 10, email: 'bob@example.com' }),
          ev(wsA, 'd', { timestamp: T0 + 20, event: 'paid' }),
          ev(wsA, 'e', { timestamp: T0 + 30 }),
          ev(wsB, 'f', { timestamp: T0 + 10 }),
        ]);
        const ids = async (q: Partial<Parameters<Store['events']['list']>[0]>): Promise<string[]> =>
          (await listEvents(store, { workspaceId: wsA, limit: 100, ...q })).map((e) => e.messageId);
        expect(await ids({ since: T0, until: T0 + 30 })).toEqual(['d', 'c', 'b']);
        expect(await ids({ email: 'bob@example.com' })).toEqual(['c']);
        expect(await ids({ event: 'paid' })).toEqual(['d']);
        expect(await ids({ email: 'ann@example.com', event: 'signed_up', since: T0 })).toEqual(['e', 'b']);
        expect(await ids({ limit: 2 })).toEqual(['e', 'd']);
        expect(await ids({ email: 'nobody@example.com' })).toEqual([]);
      });

      it('pages with a keyset cursor without repeating or skipping among identical timestamps', async () => {
        for (let chunk = 0; chunk < 5; chunk++) {
          const items = Array.from({ length: 7 }, (_, i) => {
            const n = chunk * 7 + i;
            return ev(wsA, `p${n}`, { timestamp: T0 + (n % 3) * 1000 });
          });
          await append(items, T0 + chunk);
        }
        const all = await listEvents(store, { workspaceId: wsA, limit: 1000 });
        expect(all).toHaveLength(35);
        for (let i = 1; i < all.length; i++) {
          const a = all[i - 1]!;
          const b = all[i]!;
          expect(a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.seq > b.seq)).toBe(true);
        }
        const paged: StoredEvent[] = [];
        let after: { timestamp: number; seq: number } | undefined;
        for (let n = 0; n < 100; n++) {
          const page = await store.events.list({ workspaceId: wsA, limit: 4, ...(after ? { after } : {}) });
          expect(page.items.length).toBeLessThanOrEqual(4);
          paged.push(...page.items);
          if (page.next === null) break;
          after = page.next;
        }
        expect(paged.map((e) => e.messageId)).toEqual(all.map((e) => e.messageId));
      });

      it('pages with filters and time bounds combined', async () => {
        await append(Array.from({ length: 12 }, (_, i) => ev(wsA, `q${i}`, { timestamp: T0 + (i % 2), email: i % 3 ? 'ann@example.com' : 'x@example.com' })));
        const q = { workspaceId: wsA, email: 'ann@example.com', since: T0, until: T0 + 2 };
        const all = await listEvents(store, { ...q, limit: 100 });
        const page1 = await listEvents(store, { ...q, limit: 3 });
        const last = page1[2]!;
        const page2 = await listEvents(store, { ...q, limit: 100, after: { timestamp: last.timestamp, seq: last.seq } });
        expect([...page1, ...page2].map((e) => e.seq)).toEqual(all.map((e) => e.seq));
        expect(all).toHaveLength(8);
      });

      it('get returns null for an unknown messageId or another workspace', async () => {
        await append([ev(wsA, 'm1')]);
        expect(await store.events.get(wsA, 'nope')).toBeNull();
        expect(await store.events.get(wsB, 'm1')).toBeNull();
      });
    });
  },
};
