/**
 * The storage contract: the observable behaviour of every port method (ports.ts), run
 * unchanged on every adapter (sqlite.contract.test.ts, postgres.contract.test.ts). A
 * behaviour pinned here is what callers may rely on whatever DATABASE_URL says; an adapter
 * that needs a test of its own internals writes a `*.<dialect>.test.ts` beside itself.
 *
 * All times are explicit (T0 and offsets): no test depends on the real clock or sleeps.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppendItem, ClaimedEvent, ContactRecord, Store, StoredEvent } from '../ports.js';

export interface OpenedStore {
  /** A new, empty store, not yet migrated (the suite migrates it). */
  store: Store;
  /** Deletes everything the store created (files, schema, database). Called after the suite closed the store. */
  cleanup: () => Promise<void>;
}

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
const WINDOW = 86_400_000;
const LEASE = 30_000;

export function runStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`storage contract: ${name}`, () => {
    let store: Store;
    let cleanup: (() => Promise<void>) | undefined;
    let wsA: string;
    let wsB: string;

    beforeEach(async () => {
      const opened = await open();
      store = opened.store;
      cleanup = opened.cleanup;
      await store.migrate();
      wsA = (await store.keys.ensureWorkspace('alpha', T0)).id;
      wsB = (await store.keys.ensureWorkspace('beta', T0)).id;
    });

    afterEach(async () => {
      try {
        await store?.close();
      } finally {
        await cleanup?.();
        cleanup = undefined;
      }
    });

    function ev(workspaceId: string, messageId: string, over: Partial<AppendItem> = {}): AppendItem {
      return {
        workspaceId,
        messageId,
        event: 'signed_up',
        email: 'ann@example.com',
        properties: null,
        traits: null,
        timestamp: T0,
        ...over,
      };
    }

    async function append(items: AppendItem[], now = T0, windowMs = WINDOW): Promise<string[]> {
      return store.events.append(items, now, windowMs);
    }

    async function mustGet(workspaceId: string, messageId: string): Promise<StoredEvent> {
      const e = await store.events.get(workspaceId, messageId);
      if (!e) throw new Error(`event ${messageId} not found`);
      return e;
    }

    async function claim(workerId: string, now = T0, limit = 100, leaseMs = LEASE): Promise<ClaimedEvent[]> {
      return store.queue.claim({ workerId, limit, now, leaseMs });
    }

    /** What the worker does with a claimed batch: one apply per (workspace, email), traits as the patch. */
    async function applyClaimed(workerId: string, claimed: ClaimedEvent[], now = T0): Promise<void> {
      const groups = new Map<string, ClaimedEvent[]>();
      for (const c of claimed) {
        const key = `${c.workspaceId} ${c.email}`;
        groups.set(key, [...(groups.get(key) ?? []), c]);
      }
      for (const group of groups.values()) {
        await store.queue.applyToContact({
          workerId,
          workspaceId: group[0]!.workspaceId,
          email: group[0]!.email,
          events: group.map((c) => ({
            seq: c.seq,
            patch: c.traitsJson === null ? null : JSON.parse(c.traitsJson),
            timestamp: c.timestamp,
          })),
          now,
        });
      }
    }

    /** Claims and applies one event at a time, in claim (acceptance) order. */
    async function processOneByOne(now = T0): Promise<void> {
      for (;;) {
        const batch = await claim('w-one', now, 1);
        if (batch.length === 0) return;
        await applyClaimed('w-one', batch, now);
      }
    }

    async function mustFindContact(workspaceId: string, email: string): Promise<ContactRecord> {
      const c = await store.contacts.findByEmail(workspaceId, email);
      if (!c) throw new Error(`contact ${email} not found`);
      return c;
    }

    async function createContact(workspaceId: string, properties: Record<string, string | number | null>, now = T0): Promise<ContactRecord> {
      const r = await store.contacts.upsert(workspaceId, properties, now);
      if (r.kind !== 'ok') throw new Error(`upsert failed: ${r.kind}`);
      return r.contact;
    }

    describe('lifecycle', () => {
      it('migrate is idempotent and ping answers', async () => {
        expect((await store.migrate()).applied).toEqual([]);
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('capabilities name the dialect', () => {
        expect(['sqlite', 'postgres']).toContain(store.capabilities.dialect);
        expect(typeof store.capabilities.multiProcess).toBe('boolean');
      });
    });

    describe('keys', () => {
      const hash1 = 'a'.repeat(64);
      const hash2 = 'b'.repeat(64);

      it('ensureWorkspace is idempotent by name', async () => {
        const again = await store.keys.ensureWorkspace('alpha', T0 + 5);
        expect(again).toEqual({ id: wsA, name: 'alpha' });
        expect(wsB).not.toBe(wsA);
      });

      it('creates, lists and finds keys by hash', async () => {
        const k1 = await store.keys.createKey({ workspaceId: wsA, name: 'first', hash: hash1, prefix: 'sk_live_aaaa', now: T0 + 1 });
        const k2 = await store.keys.createKey({ workspaceId: wsB, name: 'second', hash: hash2, prefix: 'sk_live_bbbb', now: T0 + 2 });
        expect(k1).toEqual({
          id: k1.id,
          workspaceId: wsA,
          workspaceName: 'alpha',
          name: 'first',
          prefix: 'sk_live_aaaa',
          hash: hash1,
          createdAt: T0 + 1,
          revokedAt: null,
        });
        expect(k2.id).not.toBe(k1.id);
        expect(await store.keys.listKeys()).toEqual([k1, k2]);
        expect(await store.keys.listActiveKeys()).toEqual(expect.arrayContaining([k1, k2]));
        expect(await store.keys.countActiveKeys()).toBe(2);
        expect(await store.keys.findActiveKeyByHash(hash2)).toEqual(k2);
        expect(await store.keys.findActiveKeyByHash('c'.repeat(64))).toBeNull();
      });

      it('revokes by id or by hash, keeping the first revocation time', async () => {
        const k1 = await store.keys.createKey({ workspaceId: wsA, name: 'first', hash: hash1, prefix: 'p1', now: T0 });
        const k2 = await store.keys.createKey({ workspaceId: wsA, name: 'second', hash: hash2, prefix: 'p2', now: T0 + 1 });
        expect(await store.keys.revokeKey(k1.id, T0 + 10)).toEqual({ ...k1, revokedAt: T0 + 10 });
        expect(await store.keys.revokeKey(hash2, T0 + 20)).toEqual({ ...k2, revokedAt: T0 + 20 });
        expect(await store.keys.revokeKey(k1.id, T0 + 30)).toEqual({ ...k1, revokedAt: T0 + 10 });
        expect(await store.keys.revokeKey('key_unknown', T0)).toBeNull();
        expect(await store.keys.findActiveKeyByHash(hash1)).toBeNull();
        expect(await store.keys.listActiveKeys()).toEqual([]);
        expect(await store.keys.countActiveKeys()).toBe(0);
        expect((await store.keys.listKeys()).map((k) => k.revokedAt)).toEqual([T0 + 10, T0 + 20]);
      });
    });

    describe('events: append and dedup', () => {
      it('accepts a messageId once, then reports duplicates without storing them', async () => {
        expect(await append([ev(wsA, 'm1', { event: 'first' })])).toEqual(['accepted']);
        expect(await append([ev(wsA, 'm1', { event: 'second' })], T0 + 1000)).toEqual(['duplicate']);
        const e = await mustGet(wsA, 'm1');
        expect(e.event).toBe('first');
        expect(e.receivedAt).toBe(T0);
        expect(await store.events.list({ workspaceId: wsA, limit: 100 })).toHaveLength(1);
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
        expect(await store.events.list({ workspaceId: wsA, limit: 100 })).toHaveLength(2);
      });

      it('accepts a messageId exactly once when two calls race', async () => {
        const results = await Promise.all([append([ev(wsA, 'm1'), ev(wsA, 'm2')]), append([ev(wsA, 'm2'), ev(wsA, 'm1')])]);
        const flat = results.flat();
        expect(flat.filter((o) => o === 'accepted')).toHaveLength(2);
        expect(await store.events.list({ workspaceId: wsA, limit: 100 })).toHaveLength(2);
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
        const all = await store.events.list({ workspaceId: wsA, limit: 10 });
        expect(all.map((x) => x.event)).toEqual(['old', 'new']);
        // The reused id opens a new window.
        expect(await append([ev(wsA, 'm1')], T0 + WINDOW + 2)).toEqual(['duplicate']);
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
        expect(await store.events.list({ workspaceId: wsA, limit: 10 })).toHaveLength(3);
        expect(await store.events.purgeDedup(T0 + WINDOW)).toBe(3);
      });

      it('get returns null for an unknown messageId or another workspace', async () => {
        await append([ev(wsA, 'm1')]);
        expect(await store.events.get(wsA, 'nope')).toBeNull();
        expect(await store.events.get(wsB, 'm1')).toBeNull();
      });
    });

    describe('events: list', () => {
      it('orders by event time, newest first, ties by acceptance, newest first', async () => {
        await append([ev(wsA, 'a', { timestamp: T0 }), ev(wsA, 'b', { timestamp: T0 + 5 }), ev(wsA, 'c', { timestamp: T0 })]);
        await append([ev(wsA, 'd', { timestamp: T0 }), ev(wsA, 'e', { timestamp: T0 - 5 })], T0 + 1);
        const list = await store.events.list({ workspaceId: wsA, limit: 10 });
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
          (await store.events.list({ workspaceId: wsA, limit: 100, ...q })).map((e) => e.messageId);
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
        const all = await store.events.list({ workspaceId: wsA, limit: 1000 });
        expect(all).toHaveLength(35);
        for (let i = 1; i < all.length; i++) {
          const a = all[i - 1]!;
          const b = all[i]!;
          expect(a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.seq > b.seq)).toBe(true);
        }
        const paged: StoredEvent[] = [];
        let after: { timestamp: number; seq: number } | undefined;
        for (;;) {
          const page = await store.events.list({ workspaceId: wsA, limit: 4, after });
          paged.push(...page);
          if (page.length < 4) break;
          const last = page[page.length - 1]!;
          after = { timestamp: last.timestamp, seq: last.seq };
        }
        expect(paged.map((e) => e.messageId)).toEqual(all.map((e) => e.messageId));
      });

      it('pages with filters and time bounds combined', async () => {
        await append(Array.from({ length: 12 }, (_, i) => ev(wsA, `q${i}`, { timestamp: T0 + (i % 2), email: i % 3 ? 'ann@example.com' : 'x@example.com' })));
        const q = { workspaceId: wsA, email: 'ann@example.com', since: T0, until: T0 + 2 };
        const all = await store.events.list({ ...q, limit: 100 });
        const page1 = await store.events.list({ ...q, limit: 3 });
        const last = page1[2]!;
        const page2 = await store.events.list({ ...q, limit: 100, after: { timestamp: last.timestamp, seq: last.seq } });
        expect([...page1, ...page2].map((e) => e.seq)).toEqual(all.map((e) => e.seq));
        expect(all).toHaveLength(8);
      });
    });

    describe('queue: claim, apply, fail, stats', () => {
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

    describe('contacts', () => {
      it('upsert creates by email, then merges into the same contact', async () => {
        const created = await store.contacts.upsert(wsA, { email: 'ann@example.com', firstName: 'Ann', plan: 'free' }, T0);
        expect(created.kind).toBe('ok');
        if (created.kind !== 'ok') return;
        expect(created.created).toBe(true);
        expect(created.contact).toEqual({
          id: created.contact.id,
          workspaceId: wsA,
          email: 'ann@example.com',
          properties: { email: 'ann@example.com', status: 'SUBSCRIBED', firstName: 'Ann', plan: 'free' },
          createdAt: T0,
          updatedAt: T0,
        });
        const updated = await store.contacts.upsert(wsA, { email: 'ann@example.com', plan: 'pro', firstName: null, status: 'UNSUBSCRIBED' }, T0 + 10);
        expect(updated).toEqual({
          kind: 'ok',
          created: false,
          contact: {
            id: created.contact.id,
            workspaceId: wsA,
            email: 'ann@example.com',
            properties: { email: 'ann@example.com', status: 'UNSUBSCRIBED', plan: 'pro' },
            createdAt: T0,
            updatedAt: T0 + 10,
          },
        });
        expect(await store.contacts.get(wsA, created.contact.id)).toEqual(updated.kind === 'ok' ? updated.contact : null);
      });

      it('the same email in two workspaces is two contacts', async () => {
        const a = await createContact(wsA, { email: 'ann@example.com', plan: 'a' });
        const b = await createContact(wsB, { email: 'ann@example.com', plan: 'b' });
        expect(a.id).not.toBe(b.id);
        expect((await mustFindContact(wsA, 'ann@example.com')).properties.plan).toBe('a');
        expect((await mustFindContact(wsB, 'ann@example.com')).properties.plan).toBe('b');
      });

      it('get and findByEmail see only their own workspace', async () => {
        const a = await createContact(wsA, { email: 'ann@example.com' });
        expect(await store.contacts.get(wsA, a.id)).toEqual(a);
        expect(await store.contacts.get(wsB, a.id)).toBeNull();
        expect(await store.contacts.get(wsA, 'unknown-id')).toBeNull();
        expect(await store.contacts.findByEmail(wsA, 'ann@example.com')).toEqual(a);
        expect(await store.contacts.findByEmail(wsB, 'ann@example.com')).toBeNull();
      });

      it('update merges at the time of the call; null clears', async () => {
        const a = await createContact(wsA, { email: 'ann@example.com', firstName: 'Ann', city: 'Oslo' });
        const r = await store.contacts.update(wsA, a.id, { city: null, lastName: 'Lee' }, T0 + 5);
        expect(r).toEqual({
          kind: 'ok',
          created: false,
          contact: { ...a, properties: { email: 'ann@example.com', status: 'SUBSCRIBED', firstName: 'Ann', lastName: 'Lee' }, updatedAt: T0 + 5 },
        });
        // Same email: not a move, no conflict.
        const same = await store.contacts.update(wsA, a.id, { email: 'ann@example.com', city: 'Rome' }, T0 + 6);
        expect(same.kind === 'ok' && same.contact.properties.city).toBe('Rome');
      });

      it('update with a new email moves the contact; an email taken by another contact is a conflict', async () => {
        const a = await createContact(wsA, { email: 'ann@example.com', plan: 'pro' });
        const b = await createContact(wsA, { email: 'bob@example.com' });
        expect(await store.contacts.update(wsA, a.id, { email: 'bob@example.com', plan: 'x' }, T0 + 1)).toEqual({ kind: 'conflict' });
        expect(await store.contacts.get(wsA, a.id)).toEqual(a);
        const moved = await store.contacts.update(wsA, a.id, { email: 'anne@example.com' }, T0 + 2);
        expect(moved).toEqual({
          kind: 'ok',
          created: false,
          contact: { ...a, email: 'anne@example.com', properties: { ...a.properties, email: 'anne@example.com' }, updatedAt: T0 + 2 },
        });
        expect(await store.contacts.findByEmail(wsA, 'ann@example.com')).toBeNull();
        expect((await mustFindContact(wsA, 'anne@example.com')).id).toBe(a.id);
        expect(await store.contacts.get(wsA, b.id)).toEqual(b);
        // The old address is free again.
        expect((await store.contacts.upsert(wsA, { email: 'ann@example.com' }, T0 + 3)).kind).toBe('ok');
      });

      it('update of an unknown contact, or of another workspace, is not_found', async () => {
        const a = await createContact(wsA, { email: 'ann@example.com' });
        expect(await store.contacts.update(wsA, 'unknown-id', { plan: 'x' }, T0)).toEqual({ kind: 'not_found' });
        expect(await store.contacts.update(wsB, a.id, { plan: 'x' }, T0)).toEqual({ kind: 'not_found' });
        expect(await store.contacts.get(wsA, a.id)).toEqual(a);
      });

      it('delete erases the contact with all its events, queued and processed, but keeps their messageIds reserved', async () => {
        await append([ev(wsA, 'm1', { traits: '{"plan":"pro"}' }), ev(wsA, 'other', { email: 'bob@example.com' }), ev(wsB, 'm1')]);
        await processOneByOne(T0 + 1);
        await append([ev(wsA, 'm2')], T0 + 2);
        const contact = await mustFindContact(wsA, 'ann@example.com');
        expect(await store.contacts.delete(wsA, { id: contact.id })).toEqual({ contact, events: 2 });
        expect(await store.contacts.get(wsA, contact.id)).toBeNull();
        expect(await store.events.get(wsA, 'm1')).toBeNull();
        expect(await store.events.get(wsA, 'm2')).toBeNull();
        expect(await store.events.list({ workspaceId: wsA, email: 'ann@example.com', limit: 10 })).toEqual([]);
        expect((await mustGet(wsA, 'other')).status).toBe('processed');
        expect(await mustGet(wsB, 'm1')).toBeTruthy();
        expect(await store.queue.stats(T0 + 3)).toEqual({ depth: 0, oldestReceivedAt: null, failed: 0 });
        expect(await append([ev(wsA, 'm1'), ev(wsA, 'm2')], T0 + 3)).toEqual(['duplicate', 'duplicate']);
        expect(await store.contacts.delete(wsA, { id: contact.id })).toBeNull();
      });

      it('delete by email erases queued events that are not linked to the contact yet', async () => {
        await createContact(wsA, { email: 'ann@example.com' });
        await append([ev(wsA, 'm1')]);
        const deleted = await store.contacts.delete(wsA, { email: 'ann@example.com' });
        expect(deleted?.contact?.email).toBe('ann@example.com');
        expect(deleted?.events).toBe(1);
        expect(await store.events.get(wsA, 'm1')).toBeNull();
        expect(await claim('w1')).toEqual([]);
        expect(await store.contacts.delete(wsA, { email: 'ann@example.com' })).toBeNull();
      });

      it('delete follows a moved contact: events linked under its old email go too', async () => {
        await append([ev(wsA, 'm1')]);
        await processOneByOne(T0 + 1);
        const c = await mustFindContact(wsA, 'ann@example.com');
        await store.contacts.update(wsA, c.id, { email: 'anne@example.com' }, T0 + 2);
        await store.contacts.delete(wsA, { email: 'anne@example.com' });
        expect(await store.events.get(wsA, 'm1')).toBeNull();
      });

      it('a contact holds at most 500 custom properties: API writes beyond are refused whole, traits key by key', async () => {
        const full: Record<string, number> = {};
        for (let i = 0; i < 500; i++) full[`p${i}`] = i;
        const c = await createContact(wsA, { email: 'ann@example.com', ...full });
        expect(await store.contacts.upsert(wsA, { email: 'ann@example.com', p0: -1, extra: 1 }, T0 + 1)).toEqual({
          kind: 'limit',
          code: 'TOO_MANY_CONTACT_PROPERTIES',
          message: 'A contact cannot have more than 500 custom properties',
        });
        expect((await store.contacts.update(wsA, c.id, { email: 'anne@example.com', extra: 1 }, T0 + 1)).kind).toBe('limit');
        expect(await store.contacts.get(wsA, c.id)).toEqual(c);
        await append([ev(wsA, 'm1', { traits: '{"p0":"new","extra":1,"firstName":"Ann"}', timestamp: T0 + 2 }), ev(wsA, 'm2', { timestamp: T0 + 3 })]);
        await applyClaimed('w1', await claim('w1', T0 + 4), T0 + 4);
        const after = await mustFindContact(wsA, 'ann@example.com');
        expect(after.properties).toMatchObject({ p0: 'new', firstName: 'Ann' });
        expect(after.properties).not.toHaveProperty('extra');
        const m1 = await mustGet(wsA, 'm1');
        expect([m1.status, m1.error]).toEqual(['processed', 'TOO_MANY_CONTACT_PROPERTIES: not applied: "extra" (A contact cannot have more than 500 custom properties)']);
        expect((await mustGet(wsA, 'm2')).error).toBeNull();
        expect((await store.contacts.listPropertyNames(wsA)).map((n) => n.name)).not.toContain('extra');
      });

      it('delete by email of an address with no contact erases its queued and failed events', async () => {
        await append([ev(wsA, 'q1'), ev(wsA, 'f1'), ev(wsA, 'bob', { email: 'bob@example.com' }), ev(wsB, 'q1')]);
        const [, f1] = await claim('w1', T0, 2);
        await store.queue.fail({ workerId: 'w1', seqs: [f1!.seq], error: 'bad data', retryAt: null, now: T0 });
        expect(await store.contacts.delete(wsA, { email: 'ann@example.com' })).toEqual({ contact: null, events: 2 });
        expect(await store.events.get(wsA, 'q1')).toBeNull();
        expect(await store.events.get(wsA, 'f1')).toBeNull();
        expect(await mustGet(wsA, 'bob')).toBeTruthy();
        expect(await mustGet(wsB, 'q1')).toBeTruthy();
        await processOneByOne(T0 + LEASE);
        expect(await store.contacts.findByEmail(wsA, 'ann@example.com')).toBeNull();
        expect(await store.contacts.delete(wsA, { email: 'ann@example.com' })).toBeNull();
        expect(await append([ev(wsA, 'q1')], T0 + 1)).toEqual(['duplicate']);
      });

      it('moving a contact takes the old address\'s unapplied events along: applied to it, erased with it', async () => {
        const c = await createContact(wsA, { email: 'ann@example.com' });
        await append([ev(wsA, 'm1', { traits: '{"plan":"pro"}' }), ev(wsA, 'm2')]);
        const held = await claim('w1', T0, 1);
        expect((await store.contacts.update(wsA, c.id, { email: 'anne@example.com' }, T0 + 1)).kind).toBe('ok');
        expect((await mustGet(wsA, 'm1')).email).toBe('anne@example.com');
        // The worker that held m1 lost its lease with the move: applying under the old email does nothing.
        const r = await store.queue.applyToContact({
          workerId: 'w1',
          workspaceId: wsA,
          email: 'ann@example.com',
          events: held.map((e) => ({ seq: e.seq, patch: { plan: 'pro' }, timestamp: e.timestamp })),
          now: T0 + 2,
        });
        expect(r.processed).toEqual([]);
        expect(await store.contacts.findByEmail(wsA, 'ann@example.com')).toBeNull();
        await processOneByOne(T0 + 3);
        expect((await mustFindContact(wsA, 'anne@example.com')).properties).toMatchObject({ plan: 'pro' });
        expect(await store.contacts.findByEmail(wsA, 'ann@example.com')).toBeNull();
        expect((await mustGet(wsA, 'm2')).contactId).toBe(c.id);
      });

      it('an erased moved contact leaves nothing queued under its old email', async () => {
        const c = await createContact(wsA, { email: 'ann@example.com' });
        await append([ev(wsA, 'm1', { traits: '{"plan":"pro"}' })]);
        await store.contacts.update(wsA, c.id, { email: 'anne@example.com' }, T0 + 1);
        expect(await store.contacts.delete(wsA, { id: c.id })).toMatchObject({ contact: { id: c.id }, events: 1 });
        expect(await claim('w1', T0 + 2)).toEqual([]);
        expect(await store.contacts.findByEmail(wsA, 'ann@example.com')).toBeNull();
      });

      it('erasing an address keeps the processed events of a contact that moved away from it', async () => {
        await append([ev(wsA, 'm1')]);
        await processOneByOne(T0 + 1);
        const moved = await mustFindContact(wsA, 'ann@example.com');
        await store.contacts.update(wsA, moved.id, { email: 'anne@example.com' }, T0 + 2);
        await append([ev(wsA, 'm2')], T0 + 3);
        await processOneByOne(T0 + 4);
        const fresh = await mustFindContact(wsA, 'ann@example.com');
        expect(await store.contacts.delete(wsA, { email: 'ann@example.com' })).toEqual({ contact: fresh, events: 1 });
        expect((await mustGet(wsA, 'm1')).contactId).toBe(moved.id);
      });

      it('delete in another workspace finds nothing and erases nothing', async () => {
        const a = await createContact(wsA, { email: 'ann@example.com' });
        await append([ev(wsA, 'm1')]);
        expect(await store.contacts.delete(wsB, { id: a.id })).toBeNull();
        expect(await store.contacts.delete(wsB, { email: 'ann@example.com' })).toBeNull();
        expect(await store.contacts.get(wsA, a.id)).toEqual(a);
        expect(await mustGet(wsA, 'm1')).toBeTruthy();
      });

      describe('list', () => {
        let all: ContactRecord[];

        beforeEach(async () => {
          all = [
            await createContact(wsA, { email: 'ann@example.com', firstName: 'Ann', lastName: 'Smith' }, T0),
            await createContact(wsA, { email: 'bob@example.com', firstName: 'Bob', status: 'UNSUBSCRIBED' }, T0 + 1),
            await createContact(wsA, { email: 'cy@example.com', lastName: 'SMITHERS' }, T0 + 1),
            await createContact(wsA, { email: 'dee@example.org' }, T0 + 1),
            await createContact(wsA, { email: 'eve@example.com', firstName: 'Eve' }, T0 + 2),
          ];
          await createContact(wsB, { email: 'ann@example.com', firstName: 'Ann' }, T0);
        });

        const cmp = (a: ContactRecord, b: ContactRecord): number =>
          a.createdAt !== b.createdAt ? a.createdAt - b.createdAt : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

        it('sorts by createdAt (desc by default, or asc), ties by id, and pages without repeats or gaps', async () => {
          for (const sort of ['createdAt.desc', 'createdAt.asc'] as const) {
            const expected = [...all].sort(cmp);
            if (sort === 'createdAt.desc') expected.reverse();
            const full = await store.contacts.list({ workspaceId: wsA, limit: 100, sort });
            expect(full).toEqual(expected);
            const paged: ContactRecord[] = [];
            let after: { createdAt: number; id: string } | undefined;
            for (;;) {
              const page = await store.contacts.list({ workspaceId: wsA, limit: 2, sort, after });
              paged.push(...page);
              if (page.length < 2) break;
              after = { createdAt: page[1]!.createdAt, id: page[1]!.id };
            }
            expect(paged).toEqual(expected);
          }
        });

        it('searches email, firstName and lastName case-insensitively, as a substring', async () => {
          const emails = async (search: string): Promise<string[]> =>
            (await store.contacts.list({ workspaceId: wsA, limit: 100, sort: 'createdAt.asc', search })).map((c) => c.email).sort();
          expect(await emails('SMITH')).toEqual(['ann@example.com', 'cy@example.com']);
          expect(await emails('bO')).toEqual(['bob@example.com']);
          expect(await emails('example.org')).toEqual(['dee@example.org']);
          expect(await emails('eve')).toEqual(['eve@example.com']);
          // LIKE wildcards in the search are literal characters.
          expect(await emails('%')).toEqual([]);
          expect(await emails('_')).toEqual([]);
        });

        it('filters by status and combines with search and paging', async () => {
          const byStatus = await store.contacts.list({ workspaceId: wsA, limit: 100, sort: 'createdAt.desc', status: 'UNSUBSCRIBED' });
          expect(byStatus.map((c) => c.email)).toEqual(['bob@example.com']);
          const subscribed = await store.contacts.list({ workspaceId: wsA, limit: 100, sort: 'createdAt.asc', status: 'SUBSCRIBED', search: 'example.com' });
          expect(subscribed.map((c) => c.email).sort()).toEqual(['ann@example.com', 'cy@example.com', 'eve@example.com']);
          expect(await store.contacts.list({ workspaceId: wsB, limit: 100, sort: 'createdAt.desc' })).toHaveLength(1);
        });
      });

      it('treats lookup keys holding U+0000 as unknown, and stores values holding it', async () => {
        const nul = 'a\u0000b';
        const a = await createContact(wsA, { email: 'ann@example.com', firstName: `Ann${nul}`, note: nul });
        await append([ev(wsA, 'm1', { traits: JSON.stringify({ [nul]: nul, plan: 'pro' }) })]);
        await processOneByOne(T0 + 1);
        const c = await mustFindContact(wsA, 'ann@example.com');
        expect(c.properties).toMatchObject({ [nul]: nul, note: nul, plan: 'pro' });
        expect(await store.events.get(wsA, nul)).toBeNull();
        expect(await store.events.list({ workspaceId: wsA, email: nul, limit: 10 })).toEqual([]);
        expect(await store.events.list({ workspaceId: wsA, event: nul, limit: 10 })).toEqual([]);
        expect(await store.contacts.get(wsA, nul)).toBeNull();
        expect(await store.contacts.findByEmail(wsA, nul)).toBeNull();
        expect(await store.contacts.update(wsA, nul, { plan: 'x' }, T0)).toEqual({ kind: 'not_found' });
        expect(await store.contacts.delete(wsA, { id: nul })).toBeNull();
        // What a search holding U+0000 matches is left open (SQLite ends the pattern there); it is not an error.
        await store.contacts.list({ workspaceId: wsA, limit: 10, sort: 'createdAt.desc', search: nul });
        // A stored value holding U+0000 does not break search over the workspace.
        const found = await store.contacts.list({ workspaceId: wsA, limit: 10, sort: 'createdAt.desc', search: 'example' });
        expect(found.map((x) => x.id)).toEqual([a.id]);
      });

      it('listPropertyNames lists custom properties with their latest type, per workspace', async () => {
        await createContact(wsA, { email: 'ann@example.com', firstName: 'Ann', plan: 'pro', seats: 3, gone: null });
        await createContact(wsA, { email: 'bob@example.com', seats: '3' }, T0 + 1);
        await append([ev(wsA, 'm1', { traits: '{"tags":["a"],"Zone":true,"meta":{"x":1}}' })]);
        await processOneByOne(T0 + 2);
        await createContact(wsB, { email: 'ann@example.com', other: 1 });
        expect(await store.contacts.listPropertyNames(wsA)).toEqual([
          { name: 'Zone', type: 'boolean' },
          { name: 'meta', type: 'object' },
          { name: 'plan', type: 'string' },
          { name: 'seats', type: 'string' },
          { name: 'tags', type: 'array' },
        ]);
        expect(await store.contacts.listPropertyNames(wsB)).toEqual([{ name: 'other', type: 'number' }]);
      });
    });
  });
}
