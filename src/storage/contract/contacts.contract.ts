/**
 * The ContactStore port (contacts/contact-store.port.ts): upsert, update and moves, delete
 * with the contact's events, list and search, property names. Run on every adapter by
 * runStoreContract (store.contract.ts).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ContactRecord } from '../../contacts/contact-store.port.js';
import type { Store } from '../ports.js';
import { LEASE, T0, storeFixture, type ContractSuite, listContacts, listEvents } from './contract-fixture.js';

export const contactsContract: ContractSuite = {
  port: 'src/contacts/contact-store.port.ts',
  run(open) {
    describe('contacts', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      const { ev, append, mustGet, claim, applyClaimed, processOneByOne, mustFindContact, createContact } = storeFixture(open, (f) => {
        store = f.store;
        wsA = f.wsA;
        wsB = f.wsB;
      });

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
        expect(await listEvents(store, { workspaceId: wsA, email: 'ann@example.com', limit: 10 })).toEqual([]);
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
            const full = await listContacts(store, { workspaceId: wsA, limit: 100, sort });
            expect(full).toEqual(expected);
            const paged: ContactRecord[] = [];
            let after: { createdAt: number; id: string } | undefined;
            for (let n = 0; n < 100; n++) {
              const page = await store.contacts.list({ workspaceId: wsA, limit: 2, sort, ...(after ? { after } : {}) });
              expect(page.items.length).toBeLessThanOrEqual(2);
              paged.push(...page.items);
              if (page.next === null) break;
              after = page.next;
            }
            expect(paged).toEqual(expected);
          }
        });

        it('searches email, firstName and lastName case-insensitively, as a substring', async () => {
          const emails = async (search: string): Promise<string[]> =>
            (await listContacts(store, { workspaceId: wsA, limit: 100, sort: 'createdAt.asc', search })).map((c) => c.email).sort();
          expect(await emails('SMITH')).toEqual(['ann@example.com', 'cy@example.com']);
          expect(await emails('bO')).toEqual(['bob@example.com']);
          expect(await emails('example.org')).toEqual(['dee@example.org']);
          expect(await emails('eve')).toEqual(['eve@example.com']);
          // LIKE wildcards in the search are literal characters.
          expect(await emails('%')).toEqual([]);
          expect(await emails('_')).toEqual([]);
        });

        it('filters by status and combines with search and paging', async () => {
          const byStatus = await listContacts(store, { workspaceId: wsA, limit: 100, sort: 'createdAt.desc', status: 'UNSUBSCRIBED' });
          expect(byStatus.map((c) => c.email)).toEqual(['bob@example.com']);
          const subscribed = await listContacts(store, { workspaceId: wsA, limit: 100, sort: 'createdAt.asc', status: 'SUBSCRIBED', search: 'example.com' });
          expect(subscribed.map((c) => c.email).sort()).toEqual(['ann@example.com', 'cy@example.com', 'eve@example.com']);
          expect(await listContacts(store, { workspaceId: wsB, limit: 100, sort: 'createdAt.desc' })).toHaveLength(1);
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
        expect(await listEvents(store, { workspaceId: wsA, email: nul, limit: 10 })).toEqual([]);
        expect(await listEvents(store, { workspaceId: wsA, event: nul, limit: 10 })).toEqual([]);
        expect(await store.contacts.get(wsA, nul)).toBeNull();
        expect(await store.contacts.findByEmail(wsA, nul)).toBeNull();
        expect(await store.contacts.update(wsA, nul, { plan: 'x' }, T0)).toEqual({ kind: 'not_found' });
        expect(await store.contacts.delete(wsA, { id: nul })).toBeNull();
        // What a search holding U+0000 matches is left open (SQLite ends the pattern there); it is not an error.
        await listContacts(store, { workspaceId: wsA, limit: 10, sort: 'createdAt.desc', search: nul });
        // A stored value holding U+0000 does not break search over the workspace.
        const found = await listContacts(store, { workspaceId: wsA, limit: 10, sort: 'createdAt.desc', search: 'example' });
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
      it('the property type is the one last written, by events and the API alike (event "a", API 5, event "b")', async () => {
        const setPlan = async (messageId: string, plan: string, at: number) => {
          await append([ev(wsA, messageId, { traits: JSON.stringify({ plan }), timestamp: at })], at);
          await processOneByOne(at);
        };
        await setPlan('pt1', 'a', T0);
        expect(await store.contacts.listPropertyNames(wsA)).toEqual([{ name: 'plan', type: 'string' }]);
        expect((await store.contacts.upsert(wsA, { email: 'ann@example.com', plan: 5 }, T0 + 1000)).kind).toBe('ok');
        expect(await store.contacts.listPropertyNames(wsA)).toEqual([{ name: 'plan', type: 'number' }]);
        await setPlan('pt2', 'b', T0 + 2000);
        expect((await mustFindContact(wsA, 'ann@example.com')).properties.plan).toBe('b');
        expect(await store.contacts.listPropertyNames(wsA)).toEqual([{ name: 'plan', type: 'string' }]);
      });

      it('provenance: when each property was set, and by which event (null for an API call)', async () => {
        await append([ev(wsA, 'p-1', { traits: JSON.stringify({ plan: 'a', city: 'Oslo' }), timestamp: T0 + 10 })]);
        await append([ev(wsA, 'p-2', { traits: JSON.stringify({ plan: 'b' }), timestamp: T0 + 20 })]);
        await processOneByOne(T0 + 30);
        const c = await mustFindContact(wsA, 'ann@example.com');
        await store.contacts.update(wsA, c.id, { firstName: 'Ann' }, T0 + 40);
        const p = await store.contacts.provenance(wsA, c.id);
        const by = Object.fromEntries((p ?? []).map((x) => [x.property, x]));
        expect(by.plan).toEqual({ property: 'plan', setAt: T0 + 20, messageId: 'p-2' });
        expect(by.city).toEqual({ property: 'city', setAt: T0 + 10, messageId: 'p-1' });
        expect(by.firstName).toEqual({ property: 'firstName', setAt: T0 + 40, messageId: null });
        expect(await store.contacts.provenance(wsB, c.id)).toBeNull();
        expect(await store.contacts.provenance(wsA, 'ct_unknown')).toBeNull();
      });

      it('mergeState: the properties with their clocks, as the merge reads them (a dry run previews on it)', async () => {
        await append([ev(wsA, 'm-1', { traits: JSON.stringify({ plan: 'a', city: 'Oslo' }), timestamp: T0 + 10 })]);
        await append([ev(wsA, 'm-2', { traits: JSON.stringify({ city: null }), timestamp: T0 + 20 })]);
        await processOneByOne(T0 + 30);
        const m = await store.contacts.mergeState(wsA, 'ann@example.com');
        expect(m).not.toBeNull();
        const c = await mustFindContact(wsA, 'ann@example.com');
        expect(m!.contact).toEqual(c);
        expect(m!.state.properties).toEqual({ email: 'ann@example.com', status: 'SUBSCRIBED', plan: 'a' });
        // The cleared city keeps its clock (a tombstone): an older event cannot bring it back.
        expect(m!.state.clocks.plan![0]).toBe(T0 + 10);
        expect(m!.state.clocks.city![0]).toBe(T0 + 20);
        expect(m!.jsonChars).toBe(JSON.stringify(m!.state.properties).length + JSON.stringify(m!.state.clocks).length);
        expect(await store.contacts.mergeState(wsB, 'ann@example.com')).toBeNull();
        expect(await store.contacts.mergeState(wsA, 'nobody@example.com')).toBeNull();
      });
    });
  },
};
