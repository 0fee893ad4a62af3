/**
 * The read APIs against a model, on every adapter and under several read bounds
 * (read-bounds.ts): the defaults; a queue always too deep to read whole with a tiny scan
 * budget (filtered lists walk the time index a few rows per page, gets go through the
 * dedup ledger); and a short queue with a tiny budget (an event name beside an email, and
 * contact searches, end pages early). Whatever the bounds, paging by `next` must return
 * exactly the model's rows in the model's order: no repeat, no gap, no page over its limit.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ContactCursor, ContactQuery, ContactRecord } from '../../contacts/contact-store.port.js';
import type { EventCursor, EventQuery, StoredEvent } from '../../events-read/event-reader.port.js';
import type { Store } from '../ports.js';
import type { ReadBounds } from '../read-bounds.js';
import { seededRandom } from '../../testing/random.js';
import type { OpenedStore } from './store.contract.js';

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
const WINDOW = 86_400_000;

export const READ_MODES: { name: string; bounds: ReadBounds }[] = [
  { name: 'default bounds', bounds: { scanBudget: 1_000, queueScan: 1_000 } },
  { name: 'deep queue, scan budget 3', bounds: { scanBudget: 3, queueScan: 0 } },
  { name: 'short queue, scan budget 2', bounds: { scanBudget: 2, queueScan: 1_000 } },
];

interface ModelEvent {
  order: number;
  messageId: string;
  email: string;
  event: string;
  timestamp: number;
  status: 'queued' | 'processed' | 'failed';
}

interface ModelContact {
  id: string;
  email: string;
  firstName: string;
  status: string;
  createdAt: number;
}

export function runReadContract(name: string, open: (bounds: ReadBounds) => Promise<OpenedStore>): void {
  for (const mode of READ_MODES) {
    describe(`read contract: ${name}, ${mode.name}`, () => {
      let store: Store;
      let cleanup: (() => Promise<void>) | undefined;

      beforeEach(async () => {
        const opened = await open(mode.bounds);
        store = opened.store;
        cleanup = opened.cleanup;
        await store.migrate();
      });

      afterEach(async () => {
        try {
          await store?.close();
        } finally {
          await cleanup?.();
          cleanup = undefined;
        }
      });

      /** Every page of a query, following `next`; checks each page's size and that `next` moves on. */
      async function pages<T, K>(list: (after: K | undefined) => Promise<{ items: T[]; next: K | null }>, limit: number): Promise<T[]> {
        const out: T[] = [];
        let after: K | undefined;
        const seen = new Set<string>();
        for (let n = 0; ; n++) {
          expect(n, 'pages').toBeLessThan(2_000);
          const page = await list(after);
          expect(page.items.length).toBeLessThanOrEqual(limit);
          out.push(...page.items);
          if (page.next === null) return out;
          const k = JSON.stringify(page.next);
          expect(seen.has(k), `cursor ${k} repeated`).toBe(false);
          seen.add(k);
          after = page.next;
        }
      }

      it('events: every filter, window and limit pages through exactly the model, newest first', async () => {
        const random = seededRandom(7);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
        const ws = (await store.keys.ensureWorkspace('reads-a', T0)).id;
        const other = (await store.keys.ensureWorkspace('reads-b', T0)).id;
        const emails = ['a@r.test', 'b@r.test', 'c@r.test', 'd@r.test', 'rare@r.test'];
        const names = ['view', 'click', 'buy', 'rare'];
        const model: ModelEvent[] = [];
        let order = 0;
        for (let batch = 0; batch < 6; batch++) {
          const items = Array.from({ length: 40 }, () => {
            const rare = random() < 0.05;
            const e: ModelEvent = {
              order: order++,
              messageId: `m${order}`,
              email: rare ? 'rare@r.test' : pick(emails.slice(0, 4)),
              event: random() < 0.05 ? 'rare' : pick(names.slice(0, 3)),
              // Few distinct times: many ties, broken by acceptance.
              timestamp: T0 + Math.floor(random() * 12) * 1000,
              status: 'queued',
            };
            model.push(e);
            return { workspaceId: ws, messageId: e.messageId, event: e.event, email: e.email, properties: null, traits: null, timestamp: e.timestamp };
          });
          expect(await store.events.append(items, T0 + batch, WINDOW)).toEqual(items.map(() => 'accepted'));
          // The other workspace interleaves with the same emails and names.
          await store.events.append(
            items.slice(0, 10).map((it) => ({ ...it, workspaceId: other })),
            T0 + batch,
            WINDOW,
          );
        }
        // Process the oldest 100 events (in both workspaces' order), fail 30 of them for good.
        const claimed = await store.queue.claim({ workerId: 'w', limit: 120, now: T0, leaseMs: 60_000 });
        const ours = claimed.filter((c) => c.workspaceId === ws);
        const failing = new Set(ours.filter((_, i) => i % 4 === 1).map((c) => c.seq));
        await store.queue.fail({ workerId: 'w', seqs: [...failing], error: 'boom', retryAt: null, now: T0 });
        const groups = new Map<string, typeof claimed>();
        for (const c of claimed) if (!failing.has(c.seq)) groups.set(`${c.workspaceId} ${c.email}`, [...(groups.get(`${c.workspaceId} ${c.email}`) ?? []), c]);
        await store.queue.applyBatch({
          workerId: 'w',
          groups: [...groups.values()].map((g) => ({ workspaceId: g[0]!.workspaceId, email: g[0]!.email, events: g.map((c) => ({ seq: c.seq, patch: null, timestamp: c.timestamp })) })),
          now: T0,
        });
        const seqOf = new Map<number, ModelEvent>();
        for (const e of model) {
          const got = await store.events.get(ws, e.messageId);
          expect(got?.messageId).toBe(e.messageId);
          seqOf.set(got!.seq, e);
        }
        for (const c of ours) seqOf.get(c.seq)!.status = failing.has(c.seq) ? 'failed' : 'processed';
        expect(new Set(model.map((e) => e.status))).toEqual(new Set(['queued', 'processed', 'failed']));

        // get: every event, with its status, through whichever path the bounds choose.
        for (const e of model) expect((await store.events.get(ws, e.messageId))?.status, e.messageId).toBe(e.status);
        expect(await store.events.get(ws, 'unknown')).toBeNull();
        expect(await store.events.get(other, model[30]!.messageId)).toBeNull();

        const newestFirst = (a: ModelEvent, b: ModelEvent) => b.timestamp - a.timestamp || b.order - a.order;
        const queries: Omit<EventQuery, 'limit' | 'workspaceId'>[] = [];
        for (const email of [undefined, 'a@r.test', 'rare@r.test', 'none@r.test']) {
          for (const event of [undefined, 'view', 'rare', 'none']) {
            for (const window of [{}, { since: T0 + 3000 }, { until: T0 + 8000 }, { since: T0 + 2000, until: T0 + 5000 }]) {
              queries.push({ ...(email ? { email } : {}), ...(event ? { event } : {}), ...window });
            }
            for (const status of ['queued', 'processed', 'failed'] as const) {
              queries.push({ ...(email ? { email } : {}), ...(event ? { event } : {}), status }, { ...(email ? { email } : {}), ...(event ? { event } : {}), status, since: T0 + 2000, until: T0 + 9000 });
            }
          }
        }
        for (const q of queries) {
          const want = model
            .filter((e) => (q.email === undefined || e.email === q.email) && (q.event === undefined || e.event === q.event))
            .filter((e) => q.status === undefined || e.status === q.status)
            .filter((e) => (q.since === undefined || e.timestamp >= q.since) && (q.until === undefined || e.timestamp < q.until))
            .sort(newestFirst)
            .map((e) => e.messageId);
          for (const limit of [1, 3, 50]) {
            if (limit === 1 && want.length > 40) continue; // long enough at 3
            const got = await pages<StoredEvent, EventCursor>((after) => store.events.list({ workspaceId: ws, limit, ...q, ...(after ? { after } : {}) }), limit);
            expect(got.map((e) => e.messageId), `${JSON.stringify(q)} limit ${limit}`).toEqual(want);
          }
        }
      });

      it('contacts: every search, status and sort pages through exactly the model', async () => {
        const random = seededRandom(11);
        const ws = (await store.keys.ensureWorkspace('reads-c', T0)).id;
        const other = (await store.keys.ensureWorkspace('reads-d', T0)).id;
        const statuses = ['SUBSCRIBED', 'UNSUBSCRIBED', 'BANNED'];
        const model: ModelContact[] = [];
        for (let i = 0; i < 60; i++) {
          const status = random() < 0.1 ? 'BANNED' : statuses[Math.floor(random() * 2)]!;
          const firstName = random() < 0.1 ? 'Zelda' : `Name${i % 7}`;
          // Several contacts per millisecond: ties on createdAt, broken by id.
          const createdAt = T0 + Math.floor(i / 4);
          const email = `${random() < 0.1 ? 'needle' : 'c'}${i}@list.test`;
          const r = await store.contacts.upsert(ws, { email, firstName, status }, createdAt);
          if (r.kind !== 'ok') throw new Error(r.kind);
          model.push({ id: r.contact.id, email, firstName, status, createdAt });
          if (i % 5 === 0) await store.contacts.upsert(other, { email, firstName, status }, createdAt);
        }
        for (const c of model.slice(0, 5)) expect((await store.contacts.get(ws, c.id))?.email).toBe(c.email);
        expect(await store.contacts.get(other, model[0]!.id)).toBeNull();
        expect((await store.contacts.findByEmail(ws, model[3]!.email))?.id).toBe(model[3]!.id);

        const cmp = (desc: boolean) => (a: ModelContact, b: ModelContact) => {
          const d = a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
          return desc ? -d : d;
        };
        for (const sort of ['createdAt.desc', 'createdAt.asc'] as const) {
          for (const status of [undefined, 'UNSUBSCRIBED', 'BANNED', 'ARCHIVED'] as const) {
            for (const search of [undefined, 'NEEDLE', 'zelda', 'list.test', 'nothing']) {
              const s = search?.toLowerCase();
              const want = model
                .filter((c) => (status === undefined || c.status === status) && (s === undefined || c.email.includes(s) || c.firstName.toLowerCase().includes(s)))
                .sort(cmp(sort === 'createdAt.desc'))
                .map((c) => c.id);
              for (const limit of [1, 4, 100]) {
                const q: ContactQuery = { workspaceId: ws, limit, sort, ...(status ? { status } : {}), ...(search ? { search } : {}) };
                const got = await pages<ContactRecord, ContactCursor>((after) => store.contacts.list({ ...q, ...(after ? { after } : {}) }), limit);
                expect(got.map((c) => c.id), JSON.stringify(q)).toEqual(want);
              }
            }
          }
        }
      });
    });
  }
}
