/**
 * Two workers (two stores, two pools) evaluating one contact's membership at the same time on
 * PostgreSQL: the compare-and-set on the contact's version means no enter or exit is lost or
 * recorded twice, whatever the interleaving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEGMENT_TRANSITIONS_KIND, MembershipService } from '../src/segments/membership.service.js';
import type { SegmentTransition } from '../src/segments/segment-links.js';
import { PostgresStore } from '../src/storage/postgres/postgres-store.js';
import { BACKEND, createTestDatabase, type PostgresTestDatabase } from '../src/testing/test-database.js';

describe.skipIf(BACKEND !== 'postgres')('segment membership: two PostgreSQL workers on one contact', () => {
  let db: PostgresTestDatabase;
  let a: PostgresStore;
  let b: PostgresStore;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    a = new PostgresStore(db.url);
    b = new PostgresStore(db.url);
    await a.migrate();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('every round records exactly the one transition the contact made', async () => {
    const ws = (await a.keys.ensureWorkspace('conc', Date.now())).id;
    const now = Date.now();
    await a.segments.createSegment({ id: 'seg_pro', workspaceId: ws, name: 'Pro', rule: { property: 'contact.plan', op: 'eq', value: 'pro' }, version: 1, status: 'ready', buildDone: 0, buildTotal: 0, createdAt: now, updatedAt: now });
    const created = await a.contacts.upsert(ws, { email: 'c@example.com' }, now);
    if (created.kind !== 'ok') throw new Error('upsert failed');
    const id = created.contact.id;
    const services = [a, b].map((s) => new MembershipService({ segments: s.segments, contacts: s.contacts }));
    const defs = await services[0]!.definitions(ws);
    const noTimers = async () => undefined;
    const rounds = 16;
    for (let r = 0; r < rounds; r++) {
      const plan = r % 2 === 0 ? 'pro' : 'basic';
      await a.contacts.update(ws, id, { plan }, Date.now());
      // Both workers evaluate at once, several times each (a retried stage job, a recheck).
      await Promise.all(
        [0, 1, 0, 1].map((i) => services[i]!.evaluateContact({ workspaceId: ws, contactId: id, defs, candidates: new Set(['seg_pro']), now: Date.now(), enqueue: noTimers })),
      );
      const members = (await b.segments.contactMembership(id)).members.map((m) => m.segmentId);
      expect(members, `round ${r}`).toEqual(plan === 'pro' ? ['seg_pro'] : []);
    }
    const jobs = await a.jobs.claim({ workerId: 'check', kinds: [SEGMENT_TRANSITIONS_KIND], limit: 1000, now: Date.now() + 1000, leaseMs: 10_000 });
    const transitions = jobs.flatMap((j) => (j.payload as { transitions: SegmentTransition[] }).transitions).sort((x, y) => Number(x.id.slice(4)) - Number(y.id.slice(4)));
    expect(transitions.map((t) => t.on)).toEqual(Array.from({ length: rounds }, (_, r) => (r % 2 === 0 ? 'enter' : 'exit')));
  });
});
