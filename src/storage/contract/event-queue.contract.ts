/**
 * The QueueStore port (processing/event-queue.port.ts): leases, applying traits to contacts
 * by event time, retries and failures, stats. Run on every adapter by runStoreContract
 * (store.contract.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../ports.js';
import { T0, WINDOW, LEASE, storeFixture, type ContractSuite } from './contract-fixture.js';

export const eventQueueContract: ContractSuite = {
  port: 'src/processing/event-queue.port.ts',
  run(open) {
    describe('queue: claim, apply, fail, stats', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      const { ev, append, mustGet, claim, applyClaimed, processOneByOne, mustFindContact, createContact } = storeFixture(open, (f) => {
        store = f.store;
        wsA = f.wsA;
        wsB = f.wsB;
      });

      it('claims due events oldest first, up to the limit, with the traits text as stored', async () => {
        const traits = '{"b":2,"a":1}';
        await append([ev(wsA, 'm1', { traits, timestamp: T0 + 99 }), ev(wsB, 'm2', { email: 'bob@example.com' }), ev(wsA, 'm3')]);
        const first = await claim('w1', T0, 2);
        const m1 = await mustGet(wsA, 'm1');
        expect(first).toEqual([
          { seq: m1.seq, workspaceId: wsA, email: 'ann@example.com', traitsJson: traits, timestamp: T0 + 99, attempts: 0 },
          { seq: (await mustGet(wsB, 'm2')).seq, workspaceId: wsB, email: 'bob@example.com', traitsJson: null, timestamp: T0, attempts: 0 },
        ]);
        const second = await claim('w2', T0, 10);
        expect(second.map((c) => c.seq)).toEqual([(await mustGet(wsA, 'm3')).seq]);
        expect(await claim('w3', T0, 10)).toEqual([]);
        // Claiming is a lease, not processing: the events are still queued.
        expect((await mustGet(wsA, 'm1')).status).toBe('queued');
      });

      it('never hands one event to two concurrent claimers', async () => {
        await append(Array.from({ length: 20 }, (_, i) => ev(wsA, `c${i}`)));
        const batches = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((w) => claim(w, T0, 6)));
        const seqs = batches.flat().map((c) => c.seq);
        expect(new Set(seqs).size).toBe(seqs.length);
        expect(seqs).toHaveLength(20);
      });

      it('re-claims an event whose lease expired; the first worker can then neither apply nor fail it', async () => {
        await append([ev(wsA, 'm1', { traits: '{"plan":"pro"}' })]);
        const [c] = await claim('w1', T0);
        expect(await claim('w2', T0 + LEASE - 1)).toEqual([]);
        const again = await claim('w2', T0 + LEASE + 1);
        expect(again.map((x) => x.seq)).toEqual([c!.seq]);
        const late = await store.queue.applyToContact({
          workerId: 'w1',
          workspaceId: wsA,
          email: 'ann@example.com',
          events: [{ seq: c!.seq, patch: { plan: 'stale' }, timestamp: T0 }],
          now: T0 + LEASE + 2,
        });
        expect(late).toEqual({ processed: [], skipped: [c!.seq], contactId: null });
        await store.queue.fail({ workerId: 'w1', seqs: [c!.seq], error: 'late', retryAt: null, now: T0 + LEASE + 2 });
        expect((await mustGet(wsA, 'm1')).status).toBe('queued');
        await applyClaimed('w2', again, T0 + LEASE + 3);
        const e = await mustGet(wsA, 'm1');
        expect(e.status).toBe('processed');
        expect((await mustFindContact(wsA, 'ann@example.com')).properties.plan).toBe('pro');
      });

      it('applies traits to a new contact and marks the events processed', async () => {
        await append([
          ev(wsA, 'm1', { traits: '{"firstName":"Ann","plan":"free"}', timestamp: T0 }),
          ev(wsA, 'm2', { traits: '{"plan":"pro"}', timestamp: T0 + 1 }),
          ev(wsA, 'm3', { traits: null, timestamp: T0 + 2 }),
        ]);
        const claimed = await claim('w1', T0 + 5);
        const r = await store.queue.applyToContact({
          workerId: 'w1',
          workspaceId: wsA,
          email: 'ann@example.com',
          events: claimed.map((c) => ({ seq: c.seq, patch: c.traitsJson ? JSON.parse(c.traitsJson) : null, timestamp: c.timestamp })),
          now: T0 + 6,
        });
        expect([...r.processed].sort((a, b) => a - b)).toEqual(claimed.map((c) => c.seq));
        expect(r.skipped).toEqual([]);
        const contact = await mustFindContact(wsA, 'ann@example.com');
        expect(r.contactId).toBe(contact.id);
        expect(contact).toEqual({
          id: contact.id,
          workspaceId: wsA,
          email: 'ann@example.com',
          properties: { email: 'ann@example.com', status: 'SUBSCRIBED', firstName: 'Ann', plan: 'pro' },
          createdAt: T0 + 6,
          updatedAt: T0 + 6,
        });
        for (const m of ['m1', 'm2', 'm3']) {
          const e = await mustGet(wsA, m);
          expect(e.status).toBe('processed');
          expect(e.contactId).toBe(contact.id);
        }
        expect(await claim('w2', T0 + LEASE * 10)).toEqual([]);
      });

      it('creates the contact even when no event carries traits', async () => {
        await append([ev(wsA, 'm1')]);
        await applyClaimed('w1', await claim('w1'), T0 + 1);
        expect((await mustFindContact(wsA, 'ann@example.com')).properties).toEqual({ email: 'ann@example.com', status: 'SUBSCRIBED' });
      });

      it('resolves traits by event time: a backdated event never overwrites a newer value', async () => {
        await append([
          ev(wsA, 'new', { traits: '{"plan":"pro","seats":10}', timestamp: T0 + 2000 }),
          ev(wsA, 'old', { traits: '{"plan":"free","city":"Oslo"}', timestamp: T0 + 1000 }),
        ]);
        await processOneByOne(T0 + 5000);
        expect((await mustFindContact(wsA, 'ann@example.com')).properties).toEqual({
          email: 'ann@example.com',
          status: 'SUBSCRIBED',
          plan: 'pro',
          seats: 10,
          city: 'Oslo',
        });
      });

      it('reaches the same contact whatever order events are processed in', async () => {
        const events = [
          { traits: '{"plan":"free","city":"Oslo"}', timestamp: T0 + 1000 },
          { traits: '{"plan":"pro","seats":10}', timestamp: T0 + 2000 },
          { traits: '{"city":null,"seats":12}', timestamp: T0 + 1500 },
          { traits: '{"plan":"team","tier":"gold"}', timestamp: T0 + 500 },
        ];
        const expected = { status: 'SUBSCRIBED', plan: 'pro', seats: 10, tier: 'gold' };
        // x@ is processed in event order as listed, y@ in the reverse order, one event at a time.
        await append(events.map((e, i) => ev(wsA, `x${i}`, { ...e, email: 'x@example.com' })));
        await append([...events].reverse().map((e, i) => ev(wsA, `y${i}`, { ...e, email: 'y@example.com' })));
        await processOneByOne(T0 + 9000);
        expect((await mustFindContact(wsA, 'x@example.com')).properties).toEqual({ ...expected, email: 'x@example.com' });
        expect((await mustFindContact(wsA, 'y@example.com')).properties).toEqual({ ...expected, email: 'y@example.com' });
        // z@: all four in one apply call, listed in reverse.
        await append(events.map((e, i) => ev(wsA, `z${i}`, { ...e, email: 'z@example.com' })));
        const claimed = await claim('w-z', T0 + 9000);
        await store.queue.applyToContact({
          workerId: 'w-z',
          workspaceId: wsA,
          email: 'z@example.com',
          events: [...claimed].reverse().map((c) => ({ seq: c.seq, patch: JSON.parse(c.traitsJson!), timestamp: c.timestamp })),
          now: T0 + 9001,
        });
        expect((await mustFindContact(wsA, 'z@example.com')).properties).toEqual({ ...expected, email: 'z@example.com' });
      });

      it('breaks a tie on event time in favour of the later-accepted event, in any processing order', async () => {
        await append([ev(wsA, 'first', { traits: '{"plan":"a"}' }), ev(wsA, 'second', { traits: '{"plan":"b"}' })]);
        const claimed = await claim('w1');
        expect(claimed).toHaveLength(2);
        await applyClaimed('w1', [claimed[1]!], T0 + 1);
        await applyClaimed('w1', [claimed[0]!], T0 + 2);
        expect((await mustFindContact(wsA, 'ann@example.com')).properties.plan).toBe('b');
      });

      it('a cleared property is not brought back by an older event', async () => {
        await append([
          ev(wsA, 'm1', { traits: '{"plan":"pro"}', timestamp: T0 }),
          ev(wsA, 'm2', { traits: '{"plan":null}', timestamp: T0 + 10 }),
          ev(wsA, 'm3', { traits: '{"plan":"free"}', timestamp: T0 + 5 }),
        ]);
        await processOneByOne(T0 + 20);
        expect((await mustFindContact(wsA, 'ann@example.com')).properties).toEqual({ email: 'ann@example.com', status: 'SUBSCRIBED' });
      });

      it('an API write counts at the time of the call against events', async () => {
        await createContact(wsA, { email: 'ann@example.com', plan: 'api' }, T0 + 5000);
        await append([ev(wsA, 'older', { traits: '{"plan":"event-old"}', timestamp: T0 + 4999 })]);
        await processOneByOne(T0 + 6000);
        expect((await mustFindContact(wsA, 'ann@example.com')).properties.plan).toBe('api');
        await append([ev(wsA, 'newer', { traits: '{"plan":"event-new"}', timestamp: T0 + 5001 })]);
        await processOneByOne(T0 + 6001);
        const c = await mustFindContact(wsA, 'ann@example.com');
        expect(c.properties.plan).toBe('event-new');
        expect(c.updatedAt).toBe(T0 + 6001);
        expect(c.createdAt).toBe(T0 + 5000);
      });

      it('skips events of a contact erased after they were claimed, and does not bring it back', async () => {
        await createContact(wsA, { email: 'ann@example.com' });
        await append([ev(wsA, 'm1', { traits: '{"plan":"pro"}' })]);
        const claimed = await claim('w1');
        expect(await store.contacts.delete(wsA, { email: 'ann@example.com' })).not.toBeNull();
        const r = await store.queue.applyToContact({
          workerId: 'w1',
          workspaceId: wsA,
          email: 'ann@example.com',
          events: claimed.map((c) => ({ seq: c.seq, patch: { plan: 'pro' }, timestamp: c.timestamp })),
          now: T0 + 1,
        });
        expect(r).toEqual({ processed: [], skipped: claimed.map((c) => c.seq), contactId: null });
        expect(await store.contacts.findByEmail(wsA, 'ann@example.com')).toBeNull();
      });

      it('skips, without touching them, events not leased to the applying worker', async () => {
        await append([ev(wsA, 'm1'), ev(wsA, 'm2')]);
        const [c1] = await claim('w1', T0, 1);
        const m2 = await mustGet(wsA, 'm2');
        const r = await store.queue.applyToContact({
          workerId: 'w1',
          workspaceId: wsA,
          email: 'ann@example.com',
          events: [
            { seq: c1!.seq, patch: null, timestamp: T0 },
            { seq: m2.seq, patch: { plan: 'x' }, timestamp: T0 },
          ],
          now: T0,
        });
        expect(r.processed).toEqual([c1!.seq]);
        expect(r.skipped).toEqual([m2.seq]);
        expect((await mustGet(wsA, 'm2')).status).toBe('queued');
        expect((await mustFindContact(wsA, 'ann@example.com')).properties.plan).toBeUndefined();
      });

      it('applyBatch applies many contacts in one call, results in input order', async () => {
        await append([
          ev(wsA, 'a1', { traits: '{"plan":"pro"}' }),
          ev(wsA, 'b1', { email: 'bob@example.com', traits: '{"city":"Oslo"}' }),
          ev(wsA, 'a2', { traits: '{"seats":2}', timestamp: T0 + 1 }),
          ev(wsB, 'a3', { traits: '{"plan":"free"}' }),
          ev(wsA, 'c1', { email: 'cy@example.com' }),
        ]);
        const claimed = await claim('w1', T0, 4);
        const bySeq = new Map(claimed.map((c) => [c.seq, c]));
        const seqOf = async (ws: string, m: string): Promise<number> => (await mustGet(ws, m)).seq;
        const group = (workspaceId: string, email: string, seqs: number[]) => ({
          workspaceId,
          email,
          events: seqs.map((seq) => {
            const c = bySeq.get(seq);
            return { seq, patch: c?.traitsJson ? JSON.parse(c.traitsJson) : null, timestamp: c?.timestamp ?? T0 };
          }),
        });
        const c1 = await seqOf(wsA, 'c1'); // not claimed: skipped
        const results = await store.queue.applyBatch({
          workerId: 'w1',
          now: T0 + 10,
          groups: [
            group(wsB, 'ann@example.com', [await seqOf(wsB, 'a3')]),
            group(wsA, 'cy@example.com', [c1]),
            group(wsA, 'ann@example.com', [await seqOf(wsA, 'a2'), await seqOf(wsA, 'a1')]),
            group(wsA, 'bob@example.com', [await seqOf(wsA, 'b1')]),
          ],
        });
        const annA = await mustFindContact(wsA, 'ann@example.com');
        const annB = await mustFindContact(wsB, 'ann@example.com');
        const bob = await mustFindContact(wsA, 'bob@example.com');
        // The order of seqs inside processed/skipped is not part of the contract.
        for (const r of results) if (!('error' in r)) r.processed.sort((x, y) => x - y);
        expect(results).toEqual([
          { processed: [await seqOf(wsB, 'a3')], skipped: [], contactId: annB.id },
          { processed: [], skipped: [c1], contactId: null },
          { processed: [await seqOf(wsA, 'a1'), await seqOf(wsA, 'a2')], skipped: [], contactId: annA.id },
          { processed: [await seqOf(wsA, 'b1')], skipped: [], contactId: bob.id },
        ]);
        expect(annA.properties).toEqual({ email: 'ann@example.com', status: 'SUBSCRIBED', plan: 'pro', seats: 2 });
        expect(annB.properties).toEqual({ email: 'ann@example.com', status: 'SUBSCRIBED', plan: 'free' });
        expect(bob.properties.city).toBe('Oslo');
        expect(await store.contacts.findByEmail(wsA, 'cy@example.com')).toBeNull();
        expect((await mustGet(wsA, 'c1')).status).toBe('queued');
        expect(await store.queue.applyBatch({ workerId: 'w1', now: T0, groups: [] })).toEqual([]);
      });

      it('applyBatch with followUp writes one job listing what it processed, in the same commit; loadEvents reads them back', async () => {
        await append([ev(wsA, 'f1', { traits: '{"plan":"pro"}', properties: '{"n":1}' }), ev(wsA, 'f2', { email: 'bob@example.com' }), ev(wsA, 'f3')]);
        const [f1, f2] = await claim('w1', T0, 2);
        const followUp = { kind: 'test.after_merge', maxAttempts: 7 };
        const results = await store.queue.applyBatch({
          workerId: 'w1',
          now: T0 + 1,
          followUp,
          groups: [
            { workspaceId: wsA, email: 'bob@example.com', events: [{ seq: f2!.seq, patch: null, timestamp: T0 }] },
            { workspaceId: wsA, email: 'ann@example.com', events: [{ seq: f1!.seq, patch: { plan: 'pro' }, timestamp: T0 }] },
          ],
        });
        expect(results.every((r) => !('error' in r))).toBe(true);
        const jobs = await store.jobs.claim({ workerId: 'j', kinds: ['test.after_merge'], limit: 10, now: T0 + 2, leaseMs: LEASE });
        expect(jobs).toHaveLength(1);
        expect(jobs[0]).toMatchObject({ key: `merge:${f1!.seq}`, payload: { seqs: [f1!.seq, f2!.seq] }, maxAttempts: 7, runAt: T0 + 1 });
        // Nothing processed (not leased to w1 any more): no job.
        const f3 = await mustGet(wsA, 'f3');
        await store.queue.applyBatch({
          workerId: 'w1',
          now: T0 + 3,
          followUp,
          groups: [{ workspaceId: wsA, email: 'ann@example.com', events: [{ seq: f3.seq, patch: null, timestamp: T0 }] }],
        });
        expect(await store.jobs.claim({ workerId: 'j', kinds: ['test.after_merge'], limit: 10, now: T0 + 4, leaseMs: LEASE })).toEqual([]);
        const loaded = await store.queue.loadEvents([f2!.seq, f1!.seq, 987_654_321]);
        expect(loaded.map((e) => [e.messageId, e.status, e.contactId !== null])).toEqual([
          ['f1', 'processed', true],
          ['f2', 'processed', true],
        ]);
        expect(loaded[0]).toMatchObject({ event: expect.any(String), properties: { n: 1 }, traits: { plan: 'pro' }, workspaceId: wsA });
        expect(await store.queue.loadEvents([])).toEqual([]);
      });

      it('applyBatch isolates a failing group: the others are applied', async () => {
        await append([ev(wsA, 'a1', { traits: '{"plan":"pro"}' }), ev(wsA, 'b1', { email: 'bob@example.com' })]);
        const [a1, b1] = await claim('w1');
        // A patch that cannot be serialised stands in for any failure confined to one group.
        const unserialisable = { big: BigInt(1) } as unknown as Record<string, never>;
        const results = await store.queue.applyBatch({
          workerId: 'w1',
          now: T0 + 1,
          groups: [
            { workspaceId: wsA, email: 'bob@example.com', events: [{ seq: b1!.seq, patch: unserialisable, timestamp: T0 }] },
            { workspaceId: wsA, email: 'ann@example.com', events: [{ seq: a1!.seq, patch: { plan: 'pro' }, timestamp: T0 }] },
          ],
        });
        expect(results[0]).toHaveProperty('error');
        expect(results[1]).toMatchObject({ processed: [a1!.seq], skipped: [] });
        expect(await store.contacts.findByEmail(wsA, 'bob@example.com')).toBeNull();
        expect((await mustGet(wsA, 'b1')).status).toBe('queued');
        expect((await mustGet(wsA, 'a1')).status).toBe('processed');
        expect((await mustFindContact(wsA, 'ann@example.com')).properties.plan).toBe('pro');
      });

      it('fail with retryAt requeues after a delay; fail with null fails for good', async () => {
        await append([ev(wsA, 'm1', { traits: '{"plan":"pro"}' })], T0);
        const [c] = await claim('w1', T0);
        await store.queue.fail({ workerId: 'w1', seqs: [c!.seq], error: 'boom', retryAt: T0 + 5000, now: T0 + 1 });
        let e = await mustGet(wsA, 'm1');
        expect([e.status, e.attempts, e.error]).toEqual(['queued', 1, 'boom']);
        expect(await claim('w2', T0 + 4999)).toEqual([]);
        const [again] = await claim('w2', T0 + 5000);
        expect(again).toMatchObject({ seq: c!.seq, attempts: 1 });
        await store.queue.fail({ workerId: 'w2', seqs: [c!.seq], error: 'bad data', retryAt: null, now: T0 + 5001 });
        e = await mustGet(wsA, 'm1');
        expect([e.status, e.attempts, e.error]).toEqual(['failed', 2, 'bad data']);
        expect(await claim('w3', T0 + WINDOW)).toEqual([]);
        expect(await store.queue.stats(T0 + 5002)).toEqual({ depth: 0, oldestReceivedAt: null, failed: 1 });
      });

      it('retryFailed queues a failed event again, due now, attempts reset; only its workspace\'s, only failed ones', async () => {
        await append([ev(wsA, 'f1'), ev(wsA, 'q1'), ev(wsB, 'f1')], T0);
        const seqs = (await claim('w1', T0)).map((c) => c.seq);
        const q1 = (await mustGet(wsA, 'q1')).seq;
        await store.queue.fail({ workerId: 'w1', seqs: seqs.filter((s) => s !== q1), error: 'bad data', retryAt: null, now: T0 + 1 });
        await store.queue.fail({ workerId: 'w1', seqs: [q1], error: 'later', retryAt: T0 + 60_000, now: T0 + 1 });
        expect(await store.queue.retryFailed({ workspaceId: wsA, messageId: 'q1', now: T0 + 2 })).toBe(0);
        expect(await store.queue.retryFailed({ workspaceId: wsA, messageId: 'nope', now: T0 + 2 })).toBe(0);
        expect(await store.queue.retryFailed({ workspaceId: wsA, messageId: 'f1', now: T0 + 10 })).toBe(1);
        const e = await mustGet(wsA, 'f1');
        expect([e.status, e.attempts, e.error]).toEqual(['queued', 0, 'bad data']);
        expect((await mustGet(wsB, 'f1')).status).toBe('failed');
        expect(await store.queue.retryFailed({ workspaceId: wsA, messageId: 'f1', now: T0 + 10 })).toBe(0);
        expect((await claim('w2', T0 + 10)).map((c) => c.seq)).toEqual([e.seq]);
      });

      it('a retried event that then succeeds is processed with its error cleared', async () => {
        await append([ev(wsA, 'm1')]);
        const [c] = await claim('w1');
        await store.queue.fail({ workerId: 'w1', seqs: [c!.seq], error: 'transient', retryAt: T0 + 10, now: T0 });
        await applyClaimed('w2', await claim('w2', T0 + 10), T0 + 11);
        const e = await mustGet(wsA, 'm1');
        expect([e.status, e.attempts, e.error]).toEqual(['processed', 1, null]);
      });

      it('fail by a worker that does not hold the lease changes nothing', async () => {
        await append([ev(wsA, 'm1')]);
        const [c] = await claim('w1');
        await store.queue.fail({ workerId: 'w2', seqs: [c!.seq], error: 'not mine', retryAt: null, now: T0 });
        await store.queue.fail({ workerId: 'w2', seqs: [], error: 'nothing', retryAt: null, now: T0 });
        const e = await mustGet(wsA, 'm1');
        expect([e.status, e.attempts, e.error]).toEqual(['queued', 0, null]);
      });

      it('stats report depth, the oldest queued receipt time and failures', async () => {
        expect(await store.queue.stats(T0)).toEqual({ depth: 0, oldestReceivedAt: null, failed: 0 });
        await append([ev(wsA, 'm1')], T0 + 1);
        await append([ev(wsB, 'm2', { email: 'bob@example.com' }), ev(wsA, 'm3')], T0 + 2);
        expect(await store.queue.stats(T0 + 3)).toEqual({ depth: 3, oldestReceivedAt: T0 + 1, failed: 0 });
        const [first] = await claim('w1', T0 + 3, 1);
        // Leased events are still queued.
        expect((await store.queue.stats(T0 + 3)).depth).toBe(3);
        await applyClaimed('w1', [first!], T0 + 4);
        expect(await store.queue.stats(T0 + 4)).toEqual({ depth: 2, oldestReceivedAt: T0 + 2, failed: 0 });
        const rest = await claim('w1', T0 + 4);
        await store.queue.fail({ workerId: 'w1', seqs: [rest[0]!.seq], error: 'x', retryAt: null, now: T0 + 5 });
        expect(await store.queue.stats(T0 + 5)).toEqual({ depth: 1, oldestReceivedAt: T0 + 2, failed: 1 });
      });
    });
  },
};
