/**
 * Contract: GET /v1/contacts/properties reports the type of the value last written, whichever
 * path wrote it (the event merge or the contacts API). SQLite once kept one name cache per
 * path on one connection, so event `plan:"a"`, `POST /v1/contacts` `plan:5`, event `plan:"b"`
 * left it saying `number` while PostgreSQL said `string`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../ports.js';
import type { OpenedStore } from './store.contract.js';

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);

export function runPropertyTypesContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`property types contract: ${name}`, () => {
    let store: Store;
    let cleanup: (() => Promise<void>) | undefined;
    let ws: string;

    beforeEach(async () => {
      const opened = await open();
      store = opened.store;
      cleanup = opened.cleanup;
      await store.migrate();
      ws = (await store.keys.ensureWorkspace('alpha', T0)).id;
    });

    afterEach(async () => {
      try {
        await store?.close();
      } finally {
        await cleanup?.();
      }
    });

    async function eventSetting(messageId: string, plan: string, at: number): Promise<void> {
      const traits = JSON.stringify({ plan });
      await store.events.append([{ workspaceId: ws, messageId, event: 'plan.changed', email: 'ann@example.com', properties: null, traits, timestamp: at }], at, 86_400_000);
      const claimed = await store.queue.claim({ workerId: 'w1', limit: 10, now: at, leaseMs: 30_000 });
      expect(claimed).toHaveLength(1);
      const [r] = await store.queue.applyBatch({
        workerId: 'w1',
        now: at,
        groups: [{ workspaceId: ws, email: 'ann@example.com', events: claimed.map((c) => ({ seq: c.seq, patch: JSON.parse(c.traitsJson!), timestamp: c.timestamp })) }],
      });
      expect(r && 'processed' in r ? r.processed : r).toHaveLength(1);
    }

    it('event plan:"a", API plan:5, event plan:"b" → string, and the contact holds "b"', async () => {
      await eventSetting('m1', 'a', T0);
      expect(await store.contacts.listPropertyNames(ws)).toEqual([{ name: 'plan', type: 'string' }]);
      const m = await store.contacts.upsert(ws, { email: 'ann@example.com', plan: 5 }, T0 + 1000);
      expect(m.kind).toBe('ok');
      expect(await store.contacts.listPropertyNames(ws)).toEqual([{ name: 'plan', type: 'number' }]);
      await eventSetting('m2', 'b', T0 + 2000);
      expect((await store.contacts.findByEmail(ws, 'ann@example.com'))?.properties.plan).toBe('b');
      expect(await store.contacts.listPropertyNames(ws)).toEqual([{ name: 'plan', type: 'string' }]);
    });
  });
}
