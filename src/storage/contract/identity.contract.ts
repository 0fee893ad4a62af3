/**
 * Contract of the IdentityStore port (ingest/segment/identity-store.port.ts), run on every
 * adapter. Times are explicit (T0 and offsets): nothing depends on the real clock.
 */
import { describe, expect, it } from 'vitest';
import { ATTACH_HELD_KIND, type HeldEventInput } from '../../ingest/segment/identity-store.port.js';
import type { Store } from '../ports.js';
import { LEASE, T0, storeFixture, type ContractSuite } from './contract-fixture.js';

function held(messageId: string, over: Partial<HeldEventInput> = {}): HeldEventInput {
  return { messageId, event: 'Order_Completed', properties: '{"total":5}', traits: null, timestamp: T0, userId: 'u1', anonymousId: null, ...over };
}

export const identityContract: ContractSuite = {
  port: 'src/ingest/segment/identity-store.port.ts',
  run(open) {
    describe('identity', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      storeFixture(open, (f) => {
        ({ store, wsA, wsB } = f);
      });

      const attachJobs = async () =>
        (await store.jobs.claim({ workerId: 'w', kinds: [ATTACH_HELD_KIND], limit: 100, now: T0 + 10, leaseMs: LEASE })).map((j) => j.payload);

      it('links resolve per workspace; an older call never replaces a newer link', async () => {
        await store.identity.record({ workspaceId: wsA, links: [{ id: 'u1', email: 'ann@example.com', aliasOf: null, at: T0 }], held: [], now: T0 });
        expect(await store.identity.resolve(wsA, ['u1', 'u2'])).toEqual(new Map([['u1', 'ann@example.com']]));
        expect(await store.identity.resolve(wsB, ['u1'])).toEqual(new Map());
        await store.identity.record({ workspaceId: wsA, links: [{ id: 'u1', email: 'old@example.com', aliasOf: null, at: T0 - 1 }], held: [], now: T0 });
        expect((await store.identity.resolve(wsA, ['u1'])).get('u1')).toBe('ann@example.com');
        await store.identity.record({ workspaceId: wsA, links: [{ id: 'u1', email: 'new@example.com', aliasOf: null, at: T0 + 1 }], held: [], now: T0 });
        expect((await store.identity.resolve(wsA, ['u1'])).get('u1')).toBe('new@example.com');
        // Within one call, the newest wins.
        await store.identity.record({
          workspaceId: wsA,
          links: [
            { id: 'u9', email: 'b@example.com', aliasOf: null, at: T0 + 5 },
            { id: 'u9', email: 'a@example.com', aliasOf: null, at: T0 + 2 },
          ],
          held: [],
          now: T0,
        });
        expect((await store.identity.resolve(wsA, ['u9'])).get('u9')).toBe('b@example.com');
      });

      it('aliases resolve through their target, and a cycle resolves to nothing', async () => {
        await store.identity.record({
          workspaceId: wsA,
          links: [
            { id: 'anon', email: null, aliasOf: 'u1', at: T0 },
            { id: 'u1', email: 'ann@example.com', aliasOf: null, at: T0 },
            { id: 'x', email: null, aliasOf: 'y', at: T0 },
            { id: 'y', email: null, aliasOf: 'x', at: T0 },
          ],
          held: [],
          now: T0,
        });
        expect(await store.identity.resolve(wsA, ['anon', 'x'])).toEqual(new Map([['anon', 'ann@example.com']]));
        expect(await store.identity.aliasesOf(wsA, 'u1')).toEqual(['anon']);
      });

      it('held events: a messageId is held once per workspace, listed oldest event first, counted, released', async () => {
        const r = await store.identity.record({
          workspaceId: wsA,
          links: [],
          held: [held('m2', { timestamp: T0 + 5 }), held('m1', { anonymousId: 'a1', userId: null }), held('m2')],
          now: T0,
        });
        expect(r).toEqual({ held: ['held', 'held', 'duplicate'], attachJobs: 0 });
        expect((await store.identity.record({ workspaceId: wsA, links: [], held: [held('m1')], now: T0 })).held).toEqual(['duplicate']);
        expect((await store.identity.record({ workspaceId: wsB, links: [], held: [held('m1')], now: T0 })).held).toEqual(['held']);
        const list = await store.identity.heldFor(wsA, ['u1', 'a1'], 10);
        expect(list.map((h) => h.messageId)).toEqual(['m1', 'm2']);
        expect(list[1]).toMatchObject({ workspaceId: wsA, event: 'Order_Completed', properties: '{"total":5}', traits: null, timestamp: T0 + 5, userId: 'u1', anonymousId: null, receivedAt: T0 });
        expect(await store.identity.countHeld()).toBe(3);
        expect(await store.identity.release([list[0]!.seq])).toBe(1);
        expect(await store.identity.release([list[0]!.seq])).toBe(0);
        expect(await store.identity.countHeld()).toBe(2);
        expect(await store.identity.purgeHeld(T0)).toBe(2);
        expect(await store.identity.countHeld()).toBe(0);
      });

      it('a link to an id with held events enqueues one attach job; an unchanged link enqueues nothing', async () => {
        await store.identity.record({ workspaceId: wsA, links: [], held: [held('m1')], now: T0 });
        expect(await attachJobs()).toEqual([]);
        const link = { id: 'u1', email: 'ann@example.com', aliasOf: null, at: T0 };
        expect((await store.identity.record({ workspaceId: wsA, links: [link], held: [], now: T0 })).attachJobs).toBe(1);
        expect((await store.identity.record({ workspaceId: wsA, links: [link], held: [], now: T0 })).attachJobs).toBe(0);
        expect(await attachJobs()).toEqual([{ workspaceId: wsA, id: 'u1' }]);
      });

      it('a held event whose id already resolves enqueues its attach job (the link committed first)', async () => {
        await store.identity.record({ workspaceId: wsA, links: [{ id: 'u1', email: 'ann@example.com', aliasOf: null, at: T0 }], held: [], now: T0 });
        expect((await store.identity.record({ workspaceId: wsA, links: [], held: [held('m1')], now: T0 })).attachJobs).toBe(1);
        expect(await attachJobs()).toEqual([{ workspaceId: wsA, id: 'u1' }]);
      });

      it('a link and a held event recorded concurrently always meet: an attach job for every id', async () => {
        const n = 20;
        await Promise.all(
          Array.from({ length: n }, (_, i) => [
            store.identity.record({ workspaceId: wsA, links: [{ id: `c${i}`, email: `c${i}@example.com`, aliasOf: null, at: T0 }], held: [], now: T0 }),
            store.identity.record({ workspaceId: wsA, links: [], held: [held(`cm${i}`, { userId: `c${i}` })], now: T0 }),
          ]).flat(),
        );
        const ids = new Set((await attachJobs()).map((p) => (p as { id: string }).id));
        expect(ids).toEqual(new Set(Array.from({ length: n }, (_, i) => `c${i}`)));
      });

      it('held events of an alias are attached when its target gets an email', async () => {
        await store.identity.record({
          workspaceId: wsA,
          links: [{ id: 'anon', email: null, aliasOf: 'u1', at: T0 }],
          held: [held('m1', { userId: null, anonymousId: 'anon' })],
          now: T0,
        });
        expect(await attachJobs()).toEqual([]);
        expect((await store.identity.record({ workspaceId: wsA, links: [{ id: 'u1', email: 'ann@example.com', aliasOf: null, at: T0 }], held: [], now: T0 })).attachJobs).toBe(1);
        expect(await attachJobs()).toEqual([{ workspaceId: wsA, id: 'u1' }]);
      });
    });
  },
};
