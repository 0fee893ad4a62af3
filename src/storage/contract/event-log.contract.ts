/**
 * The EventLog port (ingest/event-log.port.ts), the hot path: append with dedup inside the
 * window, outcomes in order, purgeDedup. Run on every adapter by runStoreContract
 * (store.contract.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../ports.js';
import { T0, WINDOW, storeFixture, type ContractSuite, listEvents } from './contract-fixture.js';

export const eventLogContract: ContractSuite = {
  port: 'src/ingest/event-log.port.ts',
  run(open) {
    describe('events: append and dedup', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      const { ev, append, mustGet } = storeFixture(open, (f) => {
        store = f.store;
        wsA = f.wsA;
        wsB = f.wsB;
      });

      it('accepts a messageId once, then reports duplicates without storing them', async () => {
        expect(await append([ev(wsA, 'm1', { event: 'first' })])).toEqual(['accepted']);
        expect(await append([ev(wsA, 'm1', { event: 'second' })], T0 + 1000)).toEqual(['duplicate']);
        const e = await mustGet(wsA, 'm1');
        expect(e.event).toBe('first');
        expect(e.receivedAt).toBe(T0);
        expect(await listEvents(store, { workspaceId: wsA, limit: 100 })).toHaveLength(1);
      });

      it('stores every field and returns the JSON as sent, key order included', async () => {
        const properties = '{"b":1,"a":{"z":[1,"x",null,true]},"c":"é"}';
        const traits = '{"plan":"pro","firstName":"Ann"}';
        await append([ev(wsA, 'm1', { event: 'order:placed', email: 'ann@example.com', properties, traits, timestamp: T0 - 5000 })], T0 + 7);
        const e = await mustGet(wsA, 'm1');
        expect(e).toEqual({
          seq: e.seq,
          workspaceId: wsA,
          messageId: 'm1',
          event: 'order:placed',
          email: 'ann@example.com',
          contactId: null,
          properties: JSON.parse(properties),
          traits: JSON.parse(traits),
          timestamp: T0 - 5000,
          receivedAt: T0 + 7,
          status: 'queued',
          attempts: 0,
          error: null,
        });
        expect(JSON.stringify(e.properties)).toBe(properties);
        expect(typeof e.seq).toBe('number');
      });

      it('accepts the first of a messageId repeated inside one call, the rest are duplicates', async () => {
        expect(await append([ev(wsA, 'm1'), ev(wsA, 'm1', { event: 'again' }), ev(wsA, 'm2'), ev(wsA, 'm1')])).toEqual([
          'accepted',
          'duplicate',
          'accepted',
          'duplicate',
        ]);
        expect((await mustGet(wsA, 'm1')).event).toBe('signed_up');
        expect(await listEvents(store, { workspaceId: wsA, limit: 100 })).toHaveLength(2);
      });

      it('accepts a messageId exactly once when two calls race', async () => {
        const results = await Promise.all([append([ev(wsA, 'm1'), ev(wsA, 'm2')]), append([ev(wsA, 'm2'), ev(wsA, 'm1')])]);
        const flat = results.flat();
        expect(flat.filter((o) => o === 'accepted')).toHaveLength(2);
        expect(await listEvents(store, { workspaceId: wsA, limit: 100 })).toHaveLength(2);
      });

      it('dedups per workspace', async () => {
        expect(await append([ev(wsA, 'm1'), ev(wsB, 'm1')])).toEqual(['accepted', 'accepted']);
        expect(await append([ev(wsB, 'm1')])).toEqual(['duplicate']);
        expect((await mustGet(wsA, 'm1')).workspaceId).toBe(wsA);
        expect((await mustGet(wsB, 'm1')).workspaceId).toBe(wsB);
      });

      it('keeps outcomes in input order and assigns seq in acceptance order', async () => {
        await append([ev(wsA, 'm2')]);
        const items = Array.from({ length: 200 }, (_, i) => ev(wsA, `b${i}`));
        items.splice(50, 0, ev(wsA, 'm2'));
        const out = await append(items, T0 + 1);
        expect(out[50]).toBe('duplicate');
        expect(out.filter((o) => o === 'accepted')).toHaveLength(200);
        const seqs = await Promise.all(Array.from({ length: 200 }, async (_, i) => (await mustGet(wsA, `b${i}`)).seq));
        for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
        expect(seqs[0]!).toBeGreaterThan((await mustGet(wsA, 'm2')).seq);
      });

      it('returns [] for an empty call', async () => {
        expect(await append([])).toEqual([]);
      });

      it('reuses a messageId only after the window since its first acceptance, and get returns the newest', async () => {
        expect(await append([ev(wsA, 'm1', { event: 'old' })], T0)).toEqual(['accepted']);
        // A duplicate does not extend the window: it runs from the first acceptance.
        expect(await append([ev(wsA, 'm1')], T0 + WINDOW - 1)).toEqual(['duplicate']);
        expect(await append([ev(wsA, 'm1', { event: 'new', timestamp: T0 - 1 })], T0 + WINDOW + 1)).toEqual(['accepted']);
        const e = await mustGet(wsA, 'm1');
        expect(e.event).toBe('new');
        expect(e.receivedAt).toBe(T0 + WINDOW + 1);
        const all = await listEvents(store, { workspaceId: wsA, limit: 10 });
        expect(all.map((x) => x.event)).toEqual(['old', 'new']);
        // The reused id opens a new window.
        expect(await append([ev(wsA, 'm1')], T0 + WINDOW + 2)).toEqual(['duplicate']);
      });

      it('a 2,500-event call: duplicates inside it and of earlier calls answered in order, text needing escapes stored exactly', async () => {
        // Text a wire encoding has to escape: quotes, backslashes, an escaped U+0000 and lone
        // surrogate (JSON text holds them as \u escapes), delimiters, non-ASCII.
        const tricky = { q: 'say "hi"\\n', nul: 'a\u0000b', lone: 'x\ud800y', delim: '{a,b}\t|,', u: 'é😀' };
        const properties = JSON.stringify(tricky);
        const traits = JSON.stringify({ name: 'O\'Neil "Ann"', tags: ['a,b', '}'] });
        const violations = JSON.stringify([{ rule: 'type', path: 'q', message: 'expected "number"' }]);
        // old-2 is taken over once its window ended; old-1 is live in the ledger for the big call.
        expect(await append([ev(wsA, 'old-2')], T0)).toEqual(['accepted']);
        expect(await append([ev(wsA, 'old-2'), ev(wsA, 'old-1')], T0 + WINDOW + 1)).toEqual(['accepted', 'accepted']);
        const items = [];
        const expected: string[] = [];
        for (let k = 0; k < 2500; k++) {
          if (k % 500 === 7) {
            items.push(ev(wsA, 'old-1'));
            expected.push('duplicate');
          } else if (k % 500 === 9) {
            items.push(ev(wsA, `id-${k - 9}\\"é`)); // repeats the id of item k - 9
            expected.push('duplicate');
          } else {
            const id = k % 500 === 0 ? `id-${k}\\"é` : `id-${k}`;
            items.push(ev(wsA, id, { event: `e${k}`, properties, traits, timestamp: T0 + k, ...(k === 3 ? { source: 'segment' as const, violations } : {}) }));
            expected.push('accepted');
          }
        }
        expect(await append(items, T0 + WINDOW + 2)).toEqual(expected);
        expect(await append([ev(wsA, 'old-2')], T0 + WINDOW + 3)).toEqual(['duplicate']);
        const stored = await listEvents(store, { workspaceId: wsA, limit: 3000 });
        expect(stored).toHaveLength(2 + 1 + 2500 - 10);
        const mine = stored.filter((e) => e.event.startsWith('e')).sort((a, b) => a.seq - b.seq);
        // Acceptance order (seq) follows the call's order.
        expect(mine.map((e) => e.event)).toEqual(items.flatMap((it, k) => (expected[k] === 'accepted' ? [it.event] : [])));
        const first = await mustGet(wsA, 'id-0\\"é');
        expect(first.event).toBe('e0');
        expect(first.properties).toEqual(tricky);
        expect(JSON.stringify(first.properties)).toBe(properties);
        expect(JSON.stringify(first.traits)).toBe(traits);
        const flagged = await mustGet(wsA, 'id-3');
        expect(flagged.source).toBe('segment');
        expect(flagged.violations).toEqual(JSON.parse(violations));
        expect((await mustGet(wsA, 'id-4')).source).toBeUndefined();
      });

      it('purgeDedup drops ledger entries accepted before the cutoff, and only those', async () => {
        await append([ev(wsA, 'm1')], T0);
        await append([ev(wsA, 'm2'), ev(wsB, 'm3')], T0 + 10);
        expect(await store.events.purgeDedup(T0 + 5)).toBe(1);
        expect(await store.events.purgeDedup(T0 + 5)).toBe(0);
        // m1's entry is gone: a new event with it is accepted even inside the window.
        expect(await append([ev(wsA, 'm1', { event: 'again' }), ev(wsA, 'm2'), ev(wsB, 'm3')], T0 + 20)).toEqual([
          'accepted',
          'duplicate',
          'duplicate',
        ]);
        expect((await mustGet(wsA, 'm1')).event).toBe('again');
        expect(await listEvents(store, { workspaceId: wsA, limit: 10 })).toHaveLength(3);
        expect(await store.events.purgeDedup(T0 + WINDOW)).toBe(3);
      });
    });
  },
};
