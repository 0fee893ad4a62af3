/**
 * Dry runs (`?dryRun=true` on POST /v1/events and /v1/events/batch): the answer says what the
 * real call then does (contact changes, workflows started or not and why, segments entered
 * or left), and the dry run changes nothing (row counts of every table, and the messageId is
 * not reserved: the real call afterwards is not a duplicate). Invalid input is answered as
 * the real call answers it. On SQLite, and on PostgreSQL with TEST_BACKEND=postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type HttpResult } from '../src/testing/http.js';
import { tableCounts as countRows } from '../src/testing/table-counts.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';
import { mintKey } from '../src/cli/context.js';

let s: TestServer;
const HOUR = 3600_000;
const ann = 'ann@example.com';
const wf: Record<string, string> = {};
const seg: Record<string, string> = {};

const api = (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${s.url}${path}`, { key: s.key, ...opts });
const flush = () => (s.server as unknown as { flushActivity: () => Promise<void> }).flushActivity();

/** Rows in every table of the store, after the buffered activity is written. */
async function tableCounts(): Promise<Record<string, number>> {
  await flush();
  return countRows(s.databaseUrl);
}

async function createWorkflow(key: string, body: Record<string, unknown>): Promise<void> {
  const r = await api('/v1/workflows', { body: { steps: [{ id: 'hold', type: 'wait', duration: '1d' }], ...body, name: key } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  wf[key] = r.body.workflow.id;
}

async function createSegment(key: string, rule: unknown): Promise<void> {
  const r = await api('/v1/segments', { body: { name: key, rule } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  seg[key] = r.body.segment.id;
}

async function send(body: Record<string, unknown>): Promise<void> {
  const r = await api('/v1/events', { body });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

async function contactOf(email: string): Promise<any> {
  return (await api(`/v1/contacts/search?email=${encodeURIComponent(email)}`)).body.contact;
}

async function segmentsOf(email: string): Promise<string[]> {
  const c = await contactOf(email);
  return ((await api(`/v1/contacts/${c.id}/segments`)).body.segments as { id: string }[]).map((x) => x.id).sort();
}

/** The answer without what differs between two calls anyway. */
function comparable(r: HttpResult): { status: number; body: unknown } {
  return { status: r.status, body: r.body };
}

beforeAll(async () => {
  s = await startTestServer({ env: { RATE_LIMIT_SINGLE_PER_MIN: '100000', RATE_LIMIT_BATCH_PER_MIN: '100000', RATE_LIMIT_API_PER_MIN: '100000' } });
  const now = Date.now();
  // Ann: on the free plan since an hour ago, in Berlin since ten minutes ago.
  await send({ event: 'user.signup', messageId: 'signup-ann', identify: { email: ann, traits: { plan: 'free', city: 'Paris' } }, timestamp: new Date(now - HOUR).toISOString() });
  await send({ event: 'profile.updated', messageId: 'moved-ann', identify: { email: ann, traits: { city: 'Berlin' } }, timestamp: new Date(now - 10 * 60_000).toISOString() });
  await s.drain();
  await createSegment('pro', { property: 'contact.plan', op: 'eq', value: 'pro' });
  await createSegment('free', { property: 'contact.plan', op: 'eq', value: 'free' });
  await createSegment('buyers', { performed: 'order.placed', where: { property: 'event.total', op: 'gte', value: 10 } });
  await createWorkflow('bigOrder', { trigger: { event: 'order.placed', where: { property: 'event.total', op: 'gte', value: 10 } }, frequency: 'every' });
  await createWorkflow('hugeOrder', { trigger: { event: 'order.placed', where: { property: 'event.total', op: 'gte', value: 1000 } }, frequency: 'every' });
  await createWorkflow('proOrder', { trigger: { event: 'order.placed', where: { property: 'contact.plan', op: 'eq', value: 'pro' } }, frequency: 'every' });
  await createWorkflow('otherEvent', { trigger: { event: 'user.signup' } });
  await createWorkflow('paused', { trigger: { event: 'order.placed' }, frequency: 'every', status: 'paused' });
  await createWorkflow('firstOrder', { trigger: { event: 'order.placed' }, frequency: 'once' });
  await s.drain();
  // Ann's first order: she has entered `firstOrder` (once) already.
  await send({ event: 'order.placed', messageId: 'order-1', identify: { email: ann }, properties: { total: 5 } });
  await s.drain();
});

afterAll(async () => {
  await s?.close();
});

describe('dry run of POST /v1/events', () => {
  it('reports what the real call then does, and changes nothing', async () => {
    const proWelcome = await api('/v1/workflows', { body: { name: 'proWelcome', trigger: { segment: seg.pro, on: 'enter' }, steps: [{ id: 'hold', type: 'wait', duration: '1d' }] } });
    expect(proWelcome.status).toBe(201);
    wf.proWelcome = proWelcome.body.workflow.id;
    await s.drain();

    const body = {
      event: 'order.placed',
      messageId: 'order-2',
      identify: { email: ann, traits: { plan: 'pro', city: 'Rome', email: 'other@example.com' } },
      properties: { total: 50 },
      // Older than the city (set 10 minutes ago), newer than the plan (an hour ago).
      timestamp: new Date(Date.now() - 30 * 60_000).toISOString(),
    };
    const before = await tableCounts();
    // The counts cover the tables the real call writes.
    for (const t of ['events', 'contacts', 'workflow_runs', 'workflow_traces', 'jobs']) expect(before[t], t).toBeGreaterThan(0);
    const dry = await api('/v1/events?dryRun=true', { body });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({ success: true, dryRun: true, messageId: 'order-2', duplicate: false });
    expect(dry.body.contact).toEqual({
      exists: true,
      changes: [
        { property: 'plan', from: 'free', to: 'pro', applied: true },
        { property: 'city', from: 'Berlin', to: 'Rome', applied: false, reason: 'older than the stored value' },
        { property: 'email', from: ann, to: 'other@example.com', applied: false, reason: 'the contact is identify.email; a trait never changes it' },
      ],
    });
    const outcomes = Object.fromEntries((dry.body.workflows as any[]).map((w) => [w.workflowId, w]));
    expect(outcomes[wf.bigOrder!]).toEqual({ workflowId: wf.bigOrder, outcome: 'would_start' });
    expect(outcomes[wf.hugeOrder!]).toEqual({ workflowId: wf.hugeOrder, outcome: 'not_entered', reason: 'filtered' });
    // The condition sees the contact as this event's traits leave it.
    expect(outcomes[wf.proOrder!]).toEqual({ workflowId: wf.proOrder, outcome: 'would_start' });
    expect(outcomes[wf.otherEvent!]).toEqual({ workflowId: wf.otherEvent, outcome: 'not_entered', reason: 'trigger_mismatch' });
    expect(outcomes[wf.paused!]).toEqual({ workflowId: wf.paused, outcome: 'not_entered', reason: 'paused' });
    expect(outcomes[wf.firstOrder!]).toEqual({ workflowId: wf.firstOrder, outcome: 'not_entered', reason: 'already_entered' });
    expect(outcomes[wf.proWelcome!]).toEqual({ workflowId: wf.proWelcome, outcome: 'would_start' });
    expect(new Set(dry.body.segments.map((x: any) => `${x.segmentId}:${x.change}`))).toEqual(
      new Set([`${seg.pro}:enter`, `${seg.free}:exit`, `${seg.buyers}:enter`]),
    );

    // Nothing was written, and nothing reserved.
    expect(await tableCounts()).toEqual(before);
    expect((await api('/v1/events/order-2')).status).toBe(404);
    expect(await segmentsOf(ann)).toEqual([seg.free].sort());

    // The real call: not a duplicate, and it does what the dry run said.
    const real = await api('/v1/events', { body });
    expect(real.status).toBe(200);
    expect(real.body.duplicate).toBeUndefined();
    await s.drain();
    const c = await contactOf(ann);
    expect(c.properties).toMatchObject({ email: ann, plan: 'pro', city: 'Berlin' });
    const trace = (await api('/v1/events/order-2')).body.workflows as any[];
    const live = Object.fromEntries(trace.map((t) => [t.workflowId, t]));
    expect(live[wf.bigOrder!]).toMatchObject({ outcome: 'started' });
    expect(live[wf.proOrder!]).toMatchObject({ outcome: 'started' });
    expect(live[wf.hugeOrder!]).toMatchObject({ outcome: 'not_entered', reason: 'filtered' });
    expect(live[wf.paused!]).toMatchObject({ outcome: 'not_entered', reason: 'paused' });
    expect(live[wf.firstOrder!]).toMatchObject({ outcome: 'not_entered', reason: 'already_entered' });
    expect(live[wf.otherEvent!]).toBeUndefined();
    expect(await segmentsOf(ann)).toEqual([seg.pro, seg.buyers].sort());
    const welcomed = (await api(`/v1/workflows/${wf.proWelcome}/runs?contactId=${c.id}`)).body.runs.items;
    expect(welcomed).toHaveLength(1);
  });

  it('a backdated event would update the contact and start nothing', async () => {
    const dry = await api('/v1/events?dryRun=true', {
      body: { event: 'order.placed', identify: { email: ann, traits: { nickname: 'annie' } }, properties: { total: 20 }, timestamp: new Date(Date.now() - 100 * HOUR).toISOString() },
    });
    expect(dry.status).toBe(200);
    expect(dry.body.contact.changes).toEqual([{ property: 'nickname', from: null, to: 'annie', applied: true }]);
    const outcomes = Object.fromEntries((dry.body.workflows as any[]).map((w) => [w.workflowId, w.reason]));
    expect(outcomes[wf.bigOrder!]).toBe('backdated');
    expect(outcomes[wf.paused!]).toBe('paused');
  });

  it('a new contact: it would be created, every trait applied, segments and workflows judged on it', async () => {
    const before = await tableCounts();
    const dry = await api('/v1/events?dryRun=true', { body: { event: 'order.placed', identify: { email: 'New@Example.com', traits: { plan: 'free' } }, properties: { total: 12 } } });
    expect(dry.status).toBe(200);
    expect(dry.body.contact).toEqual({ exists: false, changes: [{ property: 'plan', from: null, to: 'free', applied: true }] });
    expect(new Set(dry.body.segments.map((x: any) => `${x.segmentId}:${x.change}`))).toEqual(new Set([`${seg.free}:enter`, `${seg.buyers}:enter`]));
    const outcomes = Object.fromEntries((dry.body.workflows as any[]).map((w) => [w.workflowId, w.outcome]));
    expect(outcomes[wf.firstOrder!]).toBe('would_start');
    expect(outcomes[wf.proOrder!]).toBe('not_entered');
    expect(await tableCounts()).toEqual(before);
    expect(await contactOf('new@example.com')).toBeNull();
  });

  it('a duplicate is reported as one, and would change nothing', async () => {
    const before = await tableCounts();
    const dry = await api('/v1/events?dryRun=true', { body: { event: 'order.placed', messageId: 'order-1', identify: { email: ann }, properties: { total: 5 } } });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, messageId: 'order-1', duplicate: true, contact: { exists: true, changes: [] }, segments: [] });
    expect((dry.body.workflows as any[]).every((w) => w.outcome === 'not_entered' && w.reason === 'duplicate')).toBe(true);
    expect(await tableCounts()).toEqual(before);
  });

  it('invalid input gets exactly the real call’s answer', async () => {
    const bodies: unknown[] = [
      { identify: { email: ann } },
      { event: 'bad name!', identify: { email: ann } },
      { event: 'x'.repeat(61), identify: { email: ann } },
      { event: 'ok', identify: { email: 'not-an-email' } },
      { event: 'ok', identify: { email: ann }, properties: { a: { b: { c: { d: 1 } } } } },
      { event: 'ok', identify: { email: ann }, timestamp: 'yesterday' },
      { event: 'ok' },
      [1, 2],
    ];
    for (const body of bodies) {
      const dry = await api('/v1/events?dryRun=true', { body });
      const real = await api('/v1/events', { body });
      expect(comparable(dry), JSON.stringify(body)).toEqual(comparable(real));
      expect(dry.status).toBe(400);
    }
    const malformed = { raw: '{"event":', headers: { 'content-type': 'application/json' } };
    expect(comparable(await api('/v1/events?dryRun=true', malformed))).toEqual(comparable(await api('/v1/events', malformed)));
    const big = { event: 'ok', identify: { email: ann }, properties: { s: 'x'.repeat(900), t: Array.from({ length: 40 }, () => 'y'.repeat(900)).join('') } };
    const tooLarge = await api('/v1/events?dryRun=true', { body: big });
    expect(comparable(tooLarge)).toEqual(comparable(await api('/v1/events', { body: big })));
    expect(tooLarge.status).toBe(413);
  });

  it('a publishable key may dry-run too (it may send events), and sees its own workspace only', async () => {
    const pk = (await mintKey(s.store, 'default', 'browser', { publishable: true })).secret;
    const dry = await call(`${s.url}/v1/events?dryRun=true`, { key: pk, body: { event: 'order.placed', identify: { email: ann }, properties: { total: 50 } } });
    expect(dry.status).toBe(200);
    expect(dry.body.contact.exists).toBe(true);
    const batch = await call(`${s.url}/v1/events/batch?dryRun=true`, { key: pk, body: { events: [{ event: 'order.placed', identify: { email: ann } }] } });
    expect(batch.status).toBe(200);
    // Another workspace: Ann is unknown there, and none of these workflows or segments apply.
    const other = await s.createKey('dry-run-other');
    const elsewhere = await call(`${s.url}/v1/events?dryRun=true`, { key: other, body: { event: 'order.placed', identify: { email: ann }, properties: { total: 50 } } });
    expect(elsewhere.body).toMatchObject({ contact: { exists: false }, workflows: [], segments: [] });
  });

  it('counts against the rate limit, not in the event stats; dryRun must be true or false', async () => {
    const since = new Date(Date.now() - HOUR).toISOString();
    const stats = async () => {
      await flush();
      return (await api(`/v1/stats/events?interval=hour&since=${since}`)).body.series;
    };
    const statsBefore = await stats();
    expect(statsBefore.some((x: any) => x.accepted > 0)).toBe(true);
    const a = await api('/v1/events?dryRun=true', { body: { event: 'ok', identify: { email: ann } } });
    const b = await api('/v1/events?dryRun=true', { body: { event: 'ok', identify: { email: ann } } });
    await api('/v1/events?dryRun=true', { body: { event: 'bad name!', identify: { email: ann } } });
    await api('/v1/events/batch?dryRun=true', { body: { events: [{ event: 'ok', identify: { email: ann } }, { event: 'ok' }] } });
    expect(Number(b.headers.get('x-ratelimit-remaining'))).toBeLessThan(Number(a.headers.get('x-ratelimit-remaining')));
    expect(await stats()).toEqual(statsBefore);
    const bad = await api('/v1/events?dryRun=yes', { body: { event: 'ok', messageId: 'dry-yes', identify: { email: ann } } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_QUERY', message: '"dryRun" must be true or false' });
    expect((await api('/v1/events/dry-yes')).status).toBe(404);
    const no = await api('/v1/events?dryRun=false', { body: { event: 'ok', messageId: 'dry-false', identify: { email: ann } } });
    expect(no.body).toEqual({ success: true, messageId: 'dry-false', info: 'Event queued for processing' });
    expect((await api('/v1/events/dry-false')).status).toBe(200);
  });
});

describe('dry run of POST /v1/events/batch', () => {
  it('per event, in the usual 200/207/400 shapes, the same statuses and errors as the real batch', async () => {
    const events = [
      { event: 'order.placed', messageId: 'b-1', identify: { email: 'bob@example.com', traits: { plan: 'free' } }, properties: { total: 30 } },
      { event: 'bad name!', identify: { email: 'bob@example.com' } },
      { event: 'order.placed', messageId: 'order-1', identify: { email: ann }, properties: { total: 5 } },
      // Later in the batch: sees the plan the first event sets, and the once workflow it starts.
      { event: 'order.placed', messageId: 'b-2', identify: { email: 'bob@example.com', traits: { plan: 'pro' } }, properties: { total: 1 } },
      { event: 'order.placed', messageId: 'b-1', identify: { email: 'bob@example.com' } },
    ];
    const before = await tableCounts();
    const dry = await api('/v1/events/batch?dryRun=true', { body: { events } });
    expect(dry.status).toBe(207);
    expect(dry.body).toMatchObject({ dryRun: true, accepted: 2, failed: 1, duplicated: 2 });
    expect(await tableCounts()).toEqual(before);
    const byIndex = Object.fromEntries((dry.body.events as any[]).map((e) => [e.index, e]));
    expect(byIndex[0].dryRun.contact).toEqual({ exists: false, changes: [{ property: 'plan', from: null, to: 'free', applied: true }] });
    expect(byIndex[2].dryRun.duplicate).toBe(true);
    // Created by the first event of the batch: it exists by then.
    expect(byIndex[3].dryRun.contact).toEqual({ exists: true, changes: [{ property: 'plan', from: 'free', to: 'pro', applied: true }] });
    const third = Object.fromEntries((byIndex[3].dryRun.workflows as any[]).map((w) => [w.workflowId, w.reason ?? w.outcome]));
    expect(third[wf.firstOrder!]).toBe('already_entered');
    expect(third[wf.bigOrder!]).toBe('filtered');
    expect(byIndex[4]).toMatchObject({ status: 'duplicate', dryRun: { duplicate: true } });

    const real = await api('/v1/events/batch', { body: { events } });
    expect(real.status).toBe(dry.status);
    expect(real.body.errors).toEqual(dry.body.errors);
    expect(real.body.events).toEqual((dry.body.events as any[]).map(({ index, messageId, status }) => ({ index, messageId, status })));
    expect({ accepted: real.body.accepted, failed: real.body.failed, duplicated: real.body.duplicated }).toEqual({ accepted: 2, failed: 1, duplicated: 2 });
    await s.drain();
    expect((await contactOf('bob@example.com')).properties.plan).toBe('pro');
    const trace = Object.fromEntries(((await api('/v1/events/b-2')).body.workflows as any[]).map((t) => [t.workflowId, t.reason ?? t.outcome]));
    expect(trace[wf.firstOrder!]).toBe('already_entered');
    expect(trace[wf.bigOrder!]).toBe('filtered');
  });

  it('all invalid: 400 ALL_EVENTS_FAILED as the real call; batch-level errors too', async () => {
    const body = { events: [{ event: 'ok' }, { identify: { email: ann } }] };
    const dry = await api('/v1/events/batch?dryRun=true', { body });
    const real = await api('/v1/events/batch', { body });
    expect(dry.status).toBe(400);
    const { dryRun, ...rest } = dry.body;
    expect(dryRun).toBe(true);
    expect(rest).toEqual(real.body);
    for (const b of [{ events: [] }, { events: 'x' }, {}, { events: Array.from({ length: 201 }, () => ({ event: 'ok', identify: { email: ann } })) }]) {
      expect(comparable(await api('/v1/events/batch?dryRun=true', { body: b }))).toEqual(comparable(await api('/v1/events/batch', { body: b })));
    }
  });
});
