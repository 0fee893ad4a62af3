/**
 * The ActivityStore port (activity/activity.port.ts): per-minute counters that add up, the
 * duplicates/rejections log read by position with its retention, accepted events by position.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../ports.js';
import { T0, storeFixture, type ContractSuite } from './contract-fixture.js';

const M = 60_000;

export const activityContract: ContractSuite = {
  port: 'src/activity/activity.port.ts',
  run(open) {
    describe('activity', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      const f = storeFixture(open, (s) => {
        store = s.store;
        wsA = s.wsA;
        wsB = s.wsB;
      });
      const c = (workspaceId: string, minute: number, event: string, accepted: number, duplicate = 0, rejected = 0) => ({ workspaceId, minute, event, accepted, duplicate, rejected });

      it('adds counters per minute and event, and sums them per bucket and by name', async () => {
        await store.activity.record({ counts: [c(wsA, T0, 'a', 2), c(wsA, T0 + M, 'a', 1, 1), c(wsB, T0, 'a', 5)], rows: [], retainBefore: 0 });
        await store.activity.record({ counts: [c(wsA, T0, 'a', 3, 0, 1), c(wsA, T0, 'b', 0, 0, 4)], rows: [], retainBefore: 0 });
        expect(await store.activity.stats({ workspaceId: wsA, since: T0, until: T0 + 2 * M, bucketMs: M })).toEqual([
          { t: T0, accepted: 5, duplicate: 0, rejected: 5 },
          { t: T0 + M, accepted: 1, duplicate: 1, rejected: 0 },
        ]);
        expect(await store.activity.stats({ workspaceId: wsA, event: 'a', since: T0, until: T0 + M, bucketMs: M })).toEqual([{ t: T0, accepted: 5, duplicate: 0, rejected: 1 }]);
        const hour = T0 - (T0 % 3_600_000);
        expect(await store.activity.stats({ workspaceId: wsA, since: hour, until: hour + 3_600_000, bucketMs: 3_600_000 })).toEqual([{ t: hour, accepted: 6, duplicate: 1, rejected: 5 }]);
      });

      it('reads the log and accepted events after a position, per workspace, and purges old rows', async () => {
        const start = await store.activity.positions();
        const row = (workspaceId: string, at: number, kind: 'duplicate' | 'rejected') => ({
          workspaceId,
          at,
          kind,
          source: 'single',
          messageId: 'm1',
          event: 'e',
          email: 'ann@example.com',
          errors: kind === 'rejected' ? [{ code: 'INVALID_EMAIL', message: 'Invalid email format' }] : null,
        });
        await store.activity.record({ counts: [], rows: [row(wsA, T0, 'duplicate'), row(wsB, T0, 'rejected'), row(wsA, T0 + 1, 'rejected')], retainBefore: 0 });
        const a = await store.activity.activityAfter(wsA, start.activityId, 10);
        expect(a.map((r) => [r.kind, r.at, r.errors])).toEqual([
          ['duplicate', T0, null],
          ['rejected', T0 + 1, [{ code: 'INVALID_EMAIL', message: 'Invalid email format' }]],
        ]);
        expect(await store.activity.activityAfter(wsA, a[0]!.id, 10)).toEqual([a[1]]);
        await store.activity.record({ counts: [], rows: [], retainBefore: T0 + 1 });
        expect((await store.activity.activityAfter(wsA, 0, 10)).map((r) => r.at)).toEqual([T0 + 1]);

        await f.append([f.ev(wsA, 'x1'), f.ev(wsB, 'y1'), f.ev(wsA, 'x2', { event: 'other' })], T0 + 5);
        const { items: acc, next } = await store.activity.acceptedAfter(wsA, start.eventSeq, 10);
        expect(acc.map((e) => [e.messageId, e.event, e.receivedAt])).toEqual([
          ['x1', 'signed_up', T0 + 5],
          ['x2', 'other', T0 + 5],
        ]);
        expect(next).toBe((await store.activity.positions()).eventSeq);
        expect(await store.activity.acceptedAfter(wsA, acc[0]!.seq, 1)).toEqual({ items: [acc[1]], next: acc[1]!.seq });
        expect(await store.activity.acceptedAfter(wsA, next, 10)).toEqual({ items: [], next });
        expect((await store.activity.positions()).eventSeq).toBeGreaterThanOrEqual(acc[1]!.seq);
      });

      it('acceptedIn reads the workspace\'s events in position ranges (the live view\'s re-read of gaps)', async () => {
        const start = await store.activity.positions();
        await f.append([f.ev(wsA, 'g1'), f.ev(wsB, 'g2'), f.ev(wsA, 'g3'), f.ev(wsA, 'g4'), f.ev(wsA, 'g5')], T0);
        const { items } = await store.activity.acceptedAfter(wsA, start.eventSeq, 10);
        const [s1, s3, s4, s5] = items.map((e) => e.seq) as [number, number, number, number];
        expect((await store.activity.acceptedIn(wsA, [[s1, s1], [s4, s5]], 10)).map((e) => e.messageId)).toEqual(['g1', 'g4', 'g5']);
        expect((await store.activity.acceptedIn(wsA, [[s1, s3]], 1)).map((e) => e.messageId)).toEqual(['g1']);
        expect(await store.activity.acceptedIn(wsB, [[s3, s5]], 10)).toEqual([]);
        expect(await store.activity.acceptedIn(wsA, [], 10)).toEqual([]);
        // Nothing missing in what committed in one go.
        expect((await store.activity.acceptedAfter(wsA, start.eventSeq, 10)).gaps).toBeUndefined();
      });

      it('an event appended with source "segment" reads back with it, by position and by messageId; ours without one', async () => {
        const start = await store.activity.positions();
        await f.append([f.ev(wsA, 'seg-1', { source: 'segment' }), f.ev(wsA, 'api-1')], T0);
        const { items } = await store.activity.acceptedAfter(wsA, start.eventSeq, 10);
        expect(items.map((e) => [e.messageId, e.source])).toEqual([
          ['seg-1', 'segment'],
          ['api-1', undefined],
        ]);
        expect((await store.activity.acceptedIn(wsA, [[items[0]!.seq, items[1]!.seq]], 10)).map((e) => e.source)).toEqual(['segment', undefined]);
        expect((await store.events.get(wsA, 'seg-1'))?.source).toBe('segment');
        expect(await store.events.get(wsA, 'api-1')).not.toHaveProperty('source');
      });

      it('acceptedAfter examines at most `scan` positions, and moves past other workspaces\' events once', async () => {
        const start = await store.activity.positions();
        await f.append([f.ev(wsB, 'b1'), f.ev(wsB, 'b2'), f.ev(wsB, 'b3'), f.ev(wsB, 'b4'), f.ev(wsA, 'a1')], T0);
        const newest = (await store.activity.positions()).eventSeq;
        const first = await store.activity.acceptedAfter(wsA, start.eventSeq, 10, 3);
        expect(first.items).toEqual([]);
        expect(first.next).toBe(start.eventSeq + 3);
        const second = await store.activity.acceptedAfter(wsA, first.next, 10, 3);
        expect(second.items.map((e) => e.messageId)).toEqual(['a1']);
        expect(second.next).toBe(newest);
      });
    });
  },
};
