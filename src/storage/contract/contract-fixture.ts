/**
 * What every contract suite starts from: a fresh store per test (opened by the adapter's
 * runner, migrated here, with workspaces `alpha` and `beta`), closed and cleaned up after,
 * and the helpers the suites share. All times are explicit (T0 and offsets): no test depends
 * on the real clock or sleeps.
 */
import { afterEach, beforeEach } from 'vitest';
import type { ContactQuery, ContactRecord } from '../../contacts/contact-store.port.js';
import type { EventQuery, StoredEvent } from '../../events-read/event-reader.port.js';
import type { AppendItem } from '../../ingest/event-log.port.js';
import type { ClaimedEvent } from '../../processing/event-queue.port.js';
import type { Store } from '../ports.js';

export interface OpenedStore {
  /** A new, empty store, not yet migrated (the suite migrates it). */
  store: Store;
  /** Deletes everything the store created (files, schema, database). Called after the suite closed the store. */
  cleanup: () => Promise<void>;
}

export type OpenStore = () => Promise<OpenedStore>;

/** One port's suite: `run` declares its describe block inside the adapter's. */
export interface ContractSuite {
  /** The port file it pins down, from the package root (contracts.test.ts checks every port has a suite). */
  port: string;
  run(open: OpenStore): void;
}

export const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
export const WINDOW = 86_400_000;
export const LEASE = 30_000;

export interface FixtureState {
  store: Store;
  wsA: string;
  wsB: string;
}

/**
 * Registers the per-test store in the calling describe block; `onOpen` receives each test's
 * store and workspaces (the suites keep them in variables of their own).
 */
export function storeFixture(open: OpenStore, onOpen: (state: FixtureState) => void) {
  let store: Store;
  let cleanup: (() => Promise<void>) | undefined;

  beforeEach(async () => {
    const opened = await open();
    store = opened.store;
    cleanup = opened.cleanup;
    await store.migrate();
    const wsA = (await store.keys.ensureWorkspace('alpha', T0)).id;
    const wsB = (await store.keys.ensureWorkspace('beta', T0)).id;
    onOpen({ store, wsA, wsB });
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

  return { ev, append, mustGet, claim, applyClaimed, processOneByOne, mustFindContact, createContact };
}

/**
 * The first `limit` events of a query, following `next` across short pages (a page may hold
 * fewer than `limit` and still have more: storage/read-bounds.ts); checks no page is over its limit.
 */
export async function listEvents(store: Store, q: EventQuery): Promise<StoredEvent[]> {
  return collect(q.limit, q.after, async (limit, after) => store.events.list({ ...q, limit, ...(after ? { after } : {}) }));
}

/** The first `limit` contacts of a query, likewise. */
export async function listContacts(store: Store, q: ContactQuery): Promise<ContactRecord[]> {
  return collect(q.limit, q.after, async (limit, after) => store.contacts.list({ ...q, limit, ...(after ? { after } : {}) }));
}

async function collect<T, K>(limit: number, start: K | undefined, list: (limit: number, after: K | undefined) => Promise<{ items: T[]; next: K | null }>): Promise<T[]> {
  const out: T[] = [];
  let after = start;
  for (let n = 0; n < 10_000; n++) {
    const page = await list(limit - out.length, after);
    if (page.items.length > limit - out.length) throw new Error(`a page of ${page.items.length} items, over its limit of ${limit - out.length}`);
    out.push(...page.items);
    if (page.next === null || out.length >= limit) return out;
    after = page.next;
  }
  throw new Error('paging did not end');
}
