/**
 * Contract of the SegmentStore port (segments/segment-store.port.ts), run on every adapter.
 * Times are explicit (T0 and offsets): nothing depends on the real clock.
 */
import { describe, expect, it } from 'vitest';
import type { SegmentRecord } from '../../segments/segment-store.port.js';
import type { Store } from '../ports.js';
import { T0, storeFixture, type ContractSuite } from './contract-fixture.js';

export const segmentsContract: ContractSuite = {
  port: 'src/segments/segment-store.port.ts',
  run(open) {
    describe('segments', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      storeFixture(open, (f) => {
        store = f.store;
        wsA = f.wsA;
        wsB = f.wsB;
      });

      const seg = (id: string, workspaceId: string, over: Partial<SegmentRecord> = {}): Omit<SegmentRecord, 'memberCount'> => ({
        id,
        workspaceId,
        name: id,
        rule: { property: 'contact.plan', op: 'exists' },
        version: 1,
        status: 'building',
        buildDone: 0,
        buildTotal: 0,
        createdAt: T0,
        updatedAt: T0,
        ...over,
      });

      it('definitions: create, get, list, update (a new rule: new version, building), progress, delete; per workspace', async () => {
        await store.segments.createSegment(seg('seg_a', wsA));
        await store.segments.createSegment(seg('seg_b', wsA, { createdAt: T0 + 1 }));
        await store.segments.createSegment(seg('seg_c', wsB));
        expect((await store.segments.listSegments(wsA)).map((s) => s.id)).toEqual(['seg_a', 'seg_b']);
        expect(await store.segments.getSegment(wsB, 'seg_a')).toBeNull();
        expect(await store.segments.getSegment(wsA, 'seg_a')).toMatchObject({ id: 'seg_a', version: 1, rule: { property: 'contact.plan', op: 'exists' }, memberCount: 0 });
        expect(await store.segments.updateSegment(wsB, 'seg_a', { name: 'x', now: T0 })).toBeNull();
        const renamed = await store.segments.updateSegment(wsA, 'seg_a', { name: 'renamed', now: T0 + 5 });
        expect(renamed).toMatchObject({ name: 'renamed', version: 1, updatedAt: T0 + 5 });
        await store.segments.recordProgress('seg_a', 1, { done: 3, status: 'ready', now: T0 + 6 });
        expect(await store.segments.getSegment(wsA, 'seg_a')).toMatchObject({ status: 'ready', buildDone: 3 });
        const edited = await store.segments.updateSegment(wsA, 'seg_a', { rule: { inSegment: 'seg_b' }, buildTotal: 7, now: T0 + 7 });
        expect(edited).toMatchObject({ version: 2, status: 'building', buildDone: 0, buildTotal: 7, rule: { inSegment: 'seg_b' } });
        // Progress of the old version is ignored.
        await store.segments.recordProgress('seg_a', 1, { done: 9, status: 'ready', now: T0 + 8 });
        expect(await store.segments.getSegment(wsA, 'seg_a')).toMatchObject({ status: 'building', buildDone: 0 });
        expect(await store.segments.deleteSegment(wsB, 'seg_a')).toBe(false);
        expect(await store.segments.deleteSegment(wsA, 'seg_a')).toBe(true);
        expect(await store.segments.getSegment(wsA, 'seg_a')).toBeNull();
      });

      it('applyMembership is a compare-and-set on the contact version; transitions recorded once, with their delivery job', async () => {
        await store.segments.createSegment(seg('seg_a', wsA));
        await store.segments.createSegment(seg('seg_b', wsA));
        expect(await store.segments.contactMembership('c1')).toEqual({ version: 0, members: [] });
        const delivery = { kind: 'test.transitions', maxAttempts: 3 };
        const first = await store.segments.applyMembership({ workspaceId: wsA, contactId: 'c1', expectedVersion: 0, enter: ['seg_a', 'seg_b', 'seg_gone'], exit: [], now: T0, delivery });
        expect(first.applied).toBe(true);
        expect(first.transitions.map((t) => [t.segmentId, t.on, t.at])).toEqual([['seg_a', 'enter', T0], ['seg_b', 'enter', T0]]);
        // A stale version loses, and writes nothing.
        const stale = await store.segments.applyMembership({ workspaceId: wsA, contactId: 'c1', expectedVersion: 0, enter: [], exit: ['seg_a'], now: T0 + 1 });
        expect(stale).toEqual({ applied: false, transitions: [] });
        const m = await store.segments.contactMembership('c1');
        expect(m.version).toBe(1);
        expect(m.members.map((x) => x.segmentId).sort()).toEqual(['seg_a', 'seg_b']);
        // Entering a segment one is in, or leaving one one is not in, records nothing.
        const again = await store.segments.applyMembership({ workspaceId: wsA, contactId: 'c1', expectedVersion: 1, enter: ['seg_a'], exit: ['seg_x', 'seg_b'], now: T0 + 2, delivery });
        expect(again.transitions.map((t) => [t.segmentId, t.on])).toEqual([['seg_b', 'exit']]);
        expect(new Set([...first.transitions, ...again.transitions].map((t) => t.id)).size).toBe(3);
        const jobs = await store.jobs.claim({ workerId: 'w', kinds: ['test.transitions'], limit: 10, now: T0 + 10, leaseMs: 1000 });
        expect(jobs.map((j) => (j.payload as { transitions: unknown[] }).transitions.length)).toEqual([2, 1]);
        expect((await store.segments.listMembers('seg_a', { limit: 10 })).map((r) => r.contactId)).toEqual(['c1']);
        expect((await store.segments.getSegment(wsA, 'seg_a'))!.memberCount).toBe(1);
      });

      it('members page by contact id; hits are idempotent per seq and counted by event time', async () => {
        await store.segments.createSegment(seg('seg_a', wsA));
        for (const c of ['c3', 'c1', 'c2']) await store.segments.applyMembership({ workspaceId: wsA, contactId: c, expectedVersion: 0, enter: ['seg_a'], exit: [], now: T0 });
        expect((await store.segments.listMembers('seg_a', { limit: 2 })).map((r) => r.contactId)).toEqual(['c1', 'c2']);
        expect((await store.segments.listMembers('seg_a', { limit: 2, after: 'c2' })).map((r) => r.contactId)).toEqual(['c3']);
        const hits = [10, 20, 30].map((ts, i) => ({ contactId: 'c1', nodeKey: 'k', seq: i + 1, ts: T0 + ts }));
        await store.segments.recordHits(hits);
        await store.segments.recordHits(hits); // a stage job delivered twice
        const [all, recent, none] = await store.segments.countHits('c1', [
          { nodeKey: 'k', since: Number.NEGATIVE_INFINITY, rank: 2 },
          { nodeKey: 'k', since: T0 + 20, rank: 3 },
          { nodeKey: 'other', since: Number.NEGATIVE_INFINITY },
        ]);
        expect(all).toEqual({ count: 3, rankTs: T0 + 20 });
        expect(recent).toEqual({ count: 2, rankTs: null });
        expect(none).toEqual({ count: 0, rankTs: null });
        expect(await store.segments.countContacts(wsA)).toBe(0);
        expect(await store.segments.contactEvents(wsA, 'c1', ['x'])).toEqual([]);
      });

      it("transitions page newest first by id, per segment, with the contact's email when it exists", async () => {
        await store.segments.createSegment(seg('seg_a', wsA));
        await store.segments.createSegment(seg('seg_b', wsA));
        const contact = await store.contacts.upsert(wsA, { email: 'ann@x.test' }, T0);
        if (contact.kind !== 'ok') throw new Error(contact.kind);
        const cid = contact.contact.id;
        await store.segments.applyMembership({ workspaceId: wsA, contactId: cid, expectedVersion: 0, enter: ['seg_a', 'seg_b'], exit: [], now: T0 });
        await store.segments.applyMembership({ workspaceId: wsA, contactId: cid, expectedVersion: 1, enter: [], exit: ['seg_a'], now: T0 + 1 });
        await store.segments.applyMembership({ workspaceId: wsA, contactId: 'gone', expectedVersion: 0, enter: ['seg_a'], exit: [], now: T0 + 2 });
        const all = await store.segments.listTransitions('seg_a', { limit: 10 });
        expect(all.map((t) => [t.contactId, t.email, t.on, t.at])).toEqual([
          ['gone', null, 'enter', T0 + 2],
          [cid, 'ann@x.test', 'exit', T0 + 1],
          [cid, 'ann@x.test', 'enter', T0],
        ]);
        const first = await store.segments.listTransitions('seg_a', { limit: 2 });
        expect(first.map((t) => t.id)).toEqual(all.slice(0, 2).map((t) => t.id));
        expect(await store.segments.listTransitions('seg_a', { limit: 2, before: first[1]!.id })).toEqual(all.slice(2));
        expect((await store.segments.listTransitions('seg_b', { limit: 10 })).map((t) => t.on)).toEqual(['enter']);
        expect(await store.segments.listTransitions('seg_none', { limit: 10 })).toEqual([]);
      });

      it("contactTransitions: the contact's enters and exits of every segment, newest first, bounded, only in its workspace", async () => {
        await store.segments.createSegment(seg('seg_ct1', wsA));
        await store.segments.createSegment(seg('seg_ct2', wsA));
        const contact = await store.contacts.upsert(wsA, { email: 'tim@x.test' }, T0);
        if (contact.kind !== 'ok') throw new Error(contact.kind);
        const cid = contact.contact.id;
        await store.segments.applyMembership({ workspaceId: wsA, contactId: cid, expectedVersion: 0, enter: ['seg_ct1'], exit: [], now: T0 });
        await store.segments.applyMembership({ workspaceId: wsA, contactId: cid, expectedVersion: 1, enter: ['seg_ct2'], exit: ['seg_ct1'], now: T0 + 5 });
        await store.segments.applyMembership({ workspaceId: wsA, contactId: 'someone-else', expectedVersion: 0, enter: ['seg_ct1'], exit: [], now: T0 + 6 });
        const all = await store.segments.contactTransitions(wsA, cid, 10);
        expect(all.map((t) => [t.segmentId, t.segmentName, t.on, t.at])).toEqual([
          ['seg_ct1', 'seg_ct1', 'exit', T0 + 5],
          ['seg_ct2', 'seg_ct2', 'enter', T0 + 5],
          ['seg_ct1', 'seg_ct1', 'enter', T0],
        ]);
        expect(all[0]!.id).toBeGreaterThan(all[1]!.id);
        expect(await store.segments.contactTransitions(wsA, cid, 1)).toEqual(all.slice(0, 1));
        expect(await store.segments.contactTransitions(wsB, cid, 10)).toEqual([]);
        await store.segments.deleteSegment(wsA, 'seg_ct2');
        // A deleted segment's transitions are gone or nameless, never another segment's name.
        const after = await store.segments.contactTransitions(wsA, cid, 10);
        expect(after.filter((t) => t.segmentId === 'seg_ct2').every((t) => t.segmentName === null)).toBe(true);
        expect(after.filter((t) => t.segmentId === 'seg_ct1')).toHaveLength(2);
      });

      it('stalledBuilds: building, not touched since `before`, and no queued backfill job of its version', async () => {
        const kind = 'test.backfill';
        await store.segments.createSegment(seg('seg_live', wsA, { updatedAt: T0 }));
        await store.segments.createSegment(seg('seg_dead', wsA, { updatedAt: T0 }));
        await store.segments.createSegment(seg('seg_missing', wsB, { updatedAt: T0, version: 3 }));
        await store.segments.createSegment(seg('seg_recent', wsA, { updatedAt: T0 + 10_000 }));
        await store.segments.createSegment(seg('seg_ready', wsA, { status: 'ready', updatedAt: T0 }));
        // seg_live: a queued batch of version 1; seg_dead: its only batch is dead; seg_missing:
        // a queued job of an older version only (and one of another kind).
        await store.jobs.enqueue([{ kind, key: 'seg_dead:1:start', payload: null, runAt: T0, maxAttempts: 1 }], T0);
        const [dying] = await store.jobs.claim({ workerId: 'w', kinds: [kind], limit: 1, now: T0, leaseMs: 1000 });
        await store.jobs.fail({ workerId: 'w', id: dying!.id, error: 'x', retryAt: null, now: T0 });
        await store.jobs.enqueue([{ kind, key: 'seg_live:1:c9', payload: null, runAt: T0 }], T0);
        await store.jobs.enqueue([{ kind, key: 'seg_missing:2:start', payload: null, runAt: T0 }, { kind: 'other', key: 'seg_missing:3:start', payload: null, runAt: T0 }], T0);
        const stalled = await store.segments.stalledBuilds({ before: T0 + 5_000, backfillKind: kind, limit: 10 });
        expect(stalled.map((s) => [s.id, s.workspaceId, s.version]).sort()).toEqual([
          ['seg_dead', wsA, 1],
          ['seg_missing', wsB, 3],
        ]);
        expect(await store.segments.stalledBuilds({ before: T0 + 5_000, backfillKind: kind, limit: 1 })).toHaveLength(1);
      });

      it('hitKeys lists each node key once; pruneHits deletes at most `limit` hits of one key older than `before`', async () => {
        const hits = [
          ...[1, 2, 3, 4, 5].map((i) => ({ contactId: `c${i % 2}`, nodeKey: 'k1', seq: i, ts: T0 + i })),
          { contactId: 'c0', nodeKey: 'k2', seq: 9, ts: T0 },
        ];
        await store.segments.recordHits(hits);
        expect(await store.segments.hitKeys()).toEqual(['k1', 'k2']);
        expect(await store.segments.pruneHits('k1', T0 + 4, 2)).toBe(2);
        expect(await store.segments.pruneHits('k1', T0 + 4, 2)).toBe(1);
        expect(await store.segments.pruneHits('k1', T0 + 4, 2)).toBe(0);
        const [c0, c1] = await Promise.all(['c0', 'c1'].map((c) => store.segments.countHits(c, [{ nodeKey: 'k1', since: Number.NEGATIVE_INFINITY }])));
        expect([c0![0]!.count, c1![0]!.count]).toEqual([1, 1]);
        expect((await store.segments.countHits('c0', [{ nodeKey: 'k2', since: Number.NEGATIVE_INFINITY }]))[0]!.count).toBe(1);
        expect(await store.segments.pruneHits('k2', T0 + 1, 10)).toBe(1);
        expect(await store.segments.hitKeys()).toEqual(['k1']);
      });
    });
  },
};
