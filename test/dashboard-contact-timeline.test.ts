/**
 * The contact page's timeline: the contact's events, segment enters / exits and workflow runs
 * (with each step's status), merged newest first; the runs as GET /v1/workflows/:id/runs
 * ?contactId= has them, the transitions as the segment's own transitions list.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, dash, signIn, type Session } from '../src/testing/dashboard.js';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let outbox: string;
let session: Session;

beforeAll(async () => {
  outbox = mkdtempSync(join(tmpdir(), 'timeline-outbox-'));
  s = await startTestServer({ env: { OUTBOX_DIR: outbox } });
  session = await signIn(s.url, (await createUser(s.store, ['default'])).email);
});
afterAll(async () => {
  await s?.close();
  rmSync(outbox, { recursive: true, force: true });
});

const pub = (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${s.url}${path}`, { key: s.key, ...opts });

describe('dashboard contact timeline', () => {
  it('events, segment enter and exit, and a workflow run with its steps, newest first', async () => {
    const seg = (await pub('/v1/segments', { body: { name: 'Pro plan', rule: { property: 'contact.plan', op: 'eq', value: 'pro' } } })).body.segment;
    const wf = (
      await pub('/v1/workflows', { body: { name: 'Welcome', frequency: 'every', trigger: { event: 'tl.signup' }, steps: [{ id: 'hello', type: 'email', subject: 'Hi', text: 'Hello' }] } })
    ).body.workflow;
    expect(seg?.id && wf?.id).toBeTruthy();
    const t0 = Date.now();
    expect((await pub('/v1/events', { body: ev({ event: 'tl.signup', identify: { email: 'tl@example.com', traits: { plan: 'pro' } }, timestamp: new Date(t0).toISOString() }) })).status).toBe(200);
    await s.drain();
    expect((await pub('/v1/events', { body: ev({ event: 'tl.downgrade', identify: { email: 'tl@example.com', traits: { plan: 'free' } }, timestamp: new Date(t0 + 1).toISOString() }) })).status).toBe(200);
    await s.drain();

    const contactId = (await pub('/v1/contacts/search?email=tl@example.com')).body.contact?.id;
    expect(contactId).toBeTruthy();
    const r = await dash(s.url, session, `/contacts/${contactId}`);
    expect(r.status).toBe(200);
    const tl: any[] = r.body.timeline;
    // Newest first.
    expect(tl.map((t) => t.at)).toEqual([...tl.map((t) => t.at)].sort().reverse());
    expect(tl.filter((t) => t.kind === 'event').map((t) => t.event.event)).toEqual(['tl.downgrade', 'tl.signup']);
    expect(r.body.events.map((e: any) => e.event)).toEqual(['tl.downgrade', 'tl.signup']);
    expect(tl.filter((t) => t.kind === 'segment').map((t) => [t.segmentId, t.segmentName, t.on])).toEqual([
      [seg.id, 'Pro plan', 'exit'],
      [seg.id, 'Pro plan', 'enter'],
    ]);
    const segTransitions = (await pub(`/v1/segments/${seg.id}/transitions`)).body.transitions.items;
    expect(tl.filter((t) => t.kind === 'segment').map((t) => t.at)).toEqual(segTransitions.map((x: any) => x.at));
    const runs = tl.filter((t) => t.kind === 'run');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ workflowName: 'Welcome', run: { workflowId: wf.id, status: 'completed', steps: [{ id: 'hello', status: 'completed', attempts: 1 }] } });
    expect(runs[0].run).toEqual((await pub(`/v1/workflows/${wf.id}/runs?contactId=${contactId}`)).body.runs.items[0]);
  });

  it('a contact with nothing else has only its events; an unknown one is a 404', async () => {
    expect((await pub('/v1/events', { body: ev({ event: 'tl.alone', identify: { email: 'alone@example.com' } }) })).status).toBe(200);
    await s.drain();
    const id = (await pub('/v1/contacts/search?email=alone@example.com')).body.contact.id;
    const r = await dash(s.url, session, `/contacts/${id}`);
    expect(r.body.timeline.map((t: any) => t.kind)).toEqual(['event']);
    expect((await dash(s.url, session, '/contacts/ct_nope')).status).toBe(404);
  });
});
