/**
 * Segments over real HTTP and a real store (SQLite, or PostgreSQL with TEST_BACKEND=postgres):
 * the API, live membership from events and contact writes, every operator of the condition
 * language on both sides of its boundary, windows judged on event time, backfill, and
 * transitions delivered to a listener once each.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing/eventually.js';
import { SegmentsModule } from '../src/segments/segments.module.js';
import type { SegmentTransition } from '../src/segments/segment-links.js';
import { call } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let other: string;
const delivered: SegmentTransition[] = [];
let referenced: string[] = [];

beforeAll(async () => {
  s = await startTestServer({
    segmentLinks: {
      listeners: [{ name: 'test', onTransitions: async (t) => void delivered.push(...t) }],
      referrers: [{ referencing: async (_ws, id) => (referenced.includes(id) ? ['wf_test'] : []) }],
    },
  });
  other = await s.createKey('segments-other');
});
afterAll(async () => {
  await s.close();
});

const api = (path: string, opts: { method?: string; body?: unknown; key?: string } = {}) =>
  call(`${s.url}${path}`, { key: opts.key ?? s.key, method: opts.method, body: opts.body });

let n = 0;
async function send(email: string, event: string, more: Record<string, unknown> = {}) {
  const r = await api('/v1/events', { body: { event, identify: { email, ...(more.traits ? { traits: more.traits } : {}) }, messageId: `m${++n}-${Date.now()}`, ...(more.properties ? { properties: more.properties } : {}), ...(more.timestamp !== undefined ? { timestamp: more.timestamp } : {}) } });
  expect(r.status).toBe(200);
}

async function createSegment(rule: unknown, name = 'S', key?: string) {
  const r = await api('/v1/segments', { body: { name, rule }, ...(key ? { key } : {}) });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.segment as { id: string; status: string; memberCount: number };
}

async function contactId(email: string): Promise<string> {
  const r = await api(`/v1/contacts/search?email=${encodeURIComponent(email)}`);
  return r.body.contact.id as string;
}

async function segmentsOf(email: string): Promise<string[]> {
  const r = await api(`/v1/contacts/${await contactId(email)}/segments`);
  expect(r.status).toBe(200);
  return (r.body.segments as { id: string }[]).map((x) => x.id).sort();
}

describe('segments API', () => {
  it('create, read, list, update, delete; 400 INVALID_CONDITION naming the path; another workspace sees 404', async () => {
    const bad = await api('/v1/segments', { body: { name: 'x', rule: { property: 'contact.plan', op: 'equals', value: 1 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_CONDITION');
    expect(bad.body.message).toMatch(/^rule\.op/);
    expect((await api('/v1/segments', { body: { name: 'x', rule: { property: 'event.plan', op: 'exists' } } })).body.code).toBe('INVALID_CONDITION');
    expect((await api('/v1/segments', { body: { name: 'x', rule: { inSegment: 'seg_nope' } } })).body.code).toBe('INVALID_CONDITION');

    const seg = await createSegment({ property: 'contact.plan', op: 'eq', value: 'pro' }, 'Pro');
    expect(seg).toMatchObject({ id: expect.stringMatching(/^seg_/), status: expect.stringMatching(/^(building|ready)$/), memberCount: 0 });
    const got = await api(`/v1/segments/${seg.id}`);
    expect(got.body.segment).toMatchObject({ id: seg.id, name: 'Pro', rule: { property: 'contact.plan', op: 'eq', value: 'pro' } });
    expect((await api('/v1/segments')).body.segments.items.map((x: { id: string }) => x.id)).toContain(seg.id);
    const put = await api(`/v1/segments/${seg.id}`, { method: 'PUT', body: { name: 'Pro plan' } });
    expect(put.status).toBe(200);
    expect(put.body.segment.name).toBe('Pro plan');

    // Another workspace: 404 on every endpoint, and its list does not show it.
    for (const [method, path, body] of [
      ['GET', `/v1/segments/${seg.id}`],
      ['PUT', `/v1/segments/${seg.id}`, { name: 'x' }],
      ['DELETE', `/v1/segments/${seg.id}`],
      ['GET', `/v1/segments/${seg.id}/contacts`],
    ] as const) {
      const r = await api(path, { method, key: other, ...(body ? { body } : {}) });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body.code).toBe('NOT_FOUND');
    }
    expect((await api('/v1/segments', { key: other })).body.segments.items).toEqual([]);
    // A contact of this workspace is a 404 to the other one's /v1/contacts/:id/segments too.
    await send('iso@example.com', 'user.signup');
    await s.drain();
    const cid = await contactId('iso@example.com');
    expect((await api(`/v1/contacts/${cid}/segments`)).status).toBe(200);
    expect((await api(`/v1/contacts/${cid}/segments`, { key: other })).status).toBe(404);
    // …and it cannot reference it.
    expect((await api('/v1/segments', { key: other, body: { name: 'x', rule: { inSegment: seg.id } } })).body.code).toBe('INVALID_CONDITION');

    const del = await api(`/v1/segments/${seg.id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect((await api(`/v1/segments/${seg.id}`)).status).toBe(404);
  });

  it('inSegment: a segment named by another or by a workflow is 409 SEGMENT_IN_USE; cycles are a 400', async () => {
    const a = await createSegment({ property: 'contact.tier', op: 'exists' }, 'A');
    const b = await createSegment({ inSegment: a.id }, 'B');
    const inUse = await api(`/v1/segments/${a.id}`, { method: 'DELETE' });
    expect(inUse.status).toBe(409);
    expect(inUse.body.code).toBe('SEGMENT_IN_USE');
    expect(inUse.body.message).toContain(b.id);
    const cycle = await api(`/v1/segments/${a.id}`, { method: 'PUT', body: { rule: { inSegment: b.id } } });
    expect(cycle.status).toBe(400);
    expect(cycle.body.code).toBe('INVALID_CONDITION');
    expect((await api(`/v1/segments/${a.id}`, { method: 'PUT', body: { rule: { inSegment: a.id } } })).status).toBe(400);
    referenced = [b.id];
    const byWorkflow = await api(`/v1/segments/${b.id}`, { method: 'DELETE' });
    expect(byWorkflow.status).toBe(409);
    expect(byWorkflow.body.message).toContain('wf_test');
    referenced = [];
    expect((await api(`/v1/segments/${b.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api(`/v1/segments/${a.id}`, { method: 'DELETE' })).status).toBe(200);
  });
});

describe('live membership', () => {
  it('trial users on the premium plan: enter by event traits, leave by a contact write; members paged; transitions delivered once', async () => {
    const seg = await createSegment({ all: [{ property: 'contact.plan', op: 'eq', value: 'premium' }, { property: 'contact.trial', op: 'eq', value: true }] }, 'Premium trials');
    const emails = ['p1@example.com', 'p2@example.com', 'p3@example.com'];
    for (const e of emails) await send(e, 'user.signup', { traits: { plan: 'premium', trial: true } });
    await send('p4@example.com', 'user.signup', { traits: { plan: 'basic', trial: true } });
    await s.drain();
    const first = await api(`/v1/segments/${seg.id}/contacts?limit=2`);
    expect(first.body.contacts.items).toHaveLength(2);
    expect(first.body.contacts.hasMore).toBe(true);
    const second = await api(`/v1/segments/${seg.id}/contacts?limit=2&cursor=${first.body.contacts.cursor}`);
    expect(second.body.contacts.hasMore).toBe(false);
    const all = [...first.body.contacts.items, ...second.body.contacts.items].map((c: { properties: { email: string } }) => c.properties.email).sort();
    expect(all).toEqual(emails);
    expect((await api(`/v1/segments/${seg.id}`)).body.segment.memberCount).toBe(3);
    expect(await segmentsOf('p1@example.com')).toEqual([seg.id]);
    expect(await segmentsOf('p4@example.com')).toEqual([]);

    const id = await contactId('p1@example.com');
    expect((await api(`/v1/contacts/${id}`, { method: 'PUT', body: { properties: { plan: 'basic' } } })).status).toBe(200);
    await s.drain();
    expect(await segmentsOf('p1@example.com')).toEqual([]);
    expect((await api(`/v1/segments/${seg.id}`)).body.segment.memberCount).toBe(2);

    const mine = delivered.filter((t) => t.segmentId === seg.id);
    expect(mine.filter((t) => t.on === 'enter')).toHaveLength(3);
    expect(mine.filter((t) => t.on === 'exit').map((t) => t.contactId)).toEqual([id]);
    expect(new Set(mine.map((t) => t.id)).size).toBe(mine.length);
    // Nothing more to deliver: a second drain delivers nothing again.
    await s.drain();
    expect(delivered.filter((t) => t.segmentId === seg.id)).toHaveLength(4);
  });

  it('customers who purchased twice in 30 days: an old (backfilled) event counts with its own time and never makes a contact enter', async () => {
    const seg = await createSegment({ performed: 'purchase.completed', count: { gte: 2 }, within: '30d' }, 'Repeat buyers');
    const day = 86_400_000;
    await send('old@example.com', 'purchase.completed', { timestamp: new Date(Date.now() - 60 * day).toISOString() });
    await send('old@example.com', 'purchase.completed', { timestamp: new Date(Date.now() - 45 * day).toISOString() });
    await send('new@example.com', 'purchase.completed', { timestamp: new Date(Date.now() - 40 * day).toISOString() });
    await send('new@example.com', 'purchase.completed', { timestamp: new Date(Date.now() - 2 * day).toISOString() });
    await s.drain();
    expect(await segmentsOf('old@example.com')).toEqual([]);
    expect(await segmentsOf('new@example.com')).toEqual([]);
    await send('new@example.com', 'purchase.completed');
    await s.drain();
    expect(await segmentsOf('new@example.com')).toEqual([seg.id]);
    // A backdated trait does not overwrite a newer one, and membership follows the contact.
    const plan = await createSegment({ property: 'contact.plan', op: 'eq', value: 'gold' }, 'Gold');
    await send('t@example.com', 'user.signup', { traits: { plan: 'gold' } });
    await send('t@example.com', 'user.signup', { traits: { plan: 'silver' }, timestamp: new Date(Date.now() - 10 * day).toISOString() });
    await s.drain();
    expect(await segmentsOf('t@example.com')).toEqual([plan.id]);
  });

  it('nested all/any/not and a segment inside another', async () => {
    const base = await createSegment({ property: 'contact.country', op: 'in', value: ['FR', 'DE'] }, 'EU');
    const seg = await createSegment(
      { all: [{ inSegment: base.id }, { any: [{ property: 'contact.age', op: 'gte', value: 18 }, { property: 'contact.guardian', op: 'exists' }] }, { not: { property: 'contact.banned', op: 'eq', value: true } }] },
      'Nested',
    );
    const cases: [string, Record<string, unknown>, boolean][] = [
      ['n1@example.com', { country: 'FR', age: 18 }, true],
      ['n2@example.com', { country: 'FR', age: 17 }, false],
      ['n3@example.com', { country: 'DE', age: 12, guardian: 'x' }, true],
      ['n4@example.com', { country: 'US', age: 30 }, false],
      ['n5@example.com', { country: 'FR', age: 30, banned: true }, false],
    ];
    for (const [e, traits] of cases) await send(e, 'user.signup', { traits });
    await s.drain();
    for (const [e, , member] of cases) expect((await segmentsOf(e)).includes(seg.id), e).toBe(member);
    // Leaving the inner segment takes the contact out of the outer one.
    await api(`/v1/contacts/${await contactId('n1@example.com')}`, { method: 'PUT', body: { properties: { country: 'US' } } });
    await s.drain();
    expect(await segmentsOf('n1@example.com')).toEqual([]);
  });
});

describe('README and erasure', () => {
  it('every rule of the README Segments table is accepted', async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Segments'), readme.indexOf('## CLI'));
    const rules = [...section.matchAll(/^\| [^|]+ \| `(\{.*\})` \|$/gm)].map((m) => m[1]!);
    expect(rules.length).toBeGreaterThanOrEqual(6);
    const base = await createSegment({ property: 'contact.plan', op: 'exists' }, 'base');
    for (const r of rules) await createSegment(JSON.parse(r.replace('seg_…', base.id)), 'from README');
  });

  it('erasing a contact takes it out of its segments', async () => {
    const seg = await createSegment({ property: 'contact.erase_me', op: 'eq', value: true }, 'erase');
    await send('gone@example.com', 'user.signup', { traits: { erase_me: true } });
    await s.drain();
    expect((await api(`/v1/segments/${seg.id}`)).body.segment.memberCount).toBe(1);
    const id = await contactId('gone@example.com');
    // SegmentMembership, what workflow branches' inSegment read.
    const membership = new SegmentsModule({ store: s.store }).membership;
    const ws = delivered.find((t) => t.segmentId === seg.id)!.workspaceId;
    expect(await membership.exists(ws, seg.id)).toBe(true);
    expect(await membership.exists('ws_other', seg.id)).toBe(false);
    expect(await membership.isMember(ws, seg.id, id)).toBe(true);
    expect((await api(`/v1/contacts/${id}`, { method: 'DELETE' })).status).toBe(200);
    await s.drain();
    expect((await api(`/v1/segments/${seg.id}`)).body.segment.memberCount).toBe(0);
    expect(delivered.filter((t) => t.segmentId === seg.id).map((t) => t.on)).toEqual(['enter', 'exit']);
    expect(await membership.isMember(ws, seg.id, id)).toBe(false);
  });
});

describe('every operator, both sides of its boundary', () => {
  const D = '2024-06-01T00:00:00.000Z';
  const cases: { op: string; value?: unknown; yes: unknown[]; no: unknown[] }[] = [
    { op: 'eq', value: 5, yes: [5], no: [6, '5', null] },
    { op: 'neq', value: 5, yes: [6, '5', null], no: [5] },
    { op: 'gt', value: 10, yes: [10.5, 11], no: [10, 9, '11'] },
    { op: 'gte', value: 10, yes: [10, 11], no: [9.99, '10'] },
    { op: 'lt', value: 10, yes: [9.99, -1], no: [10, 11] },
    { op: 'lte', value: 10, yes: [10, 9], no: [10.01, 'x'] },
    { op: 'contains', value: 'vip', yes: ['a vip b', ['x', 'vip']], no: ['VIP', ['x'], 5] },
    { op: 'starts_with', value: 'ab', yes: ['ab', 'abc'], no: ['xab', 'Ab'] },
    { op: 'in', value: ['a', 1], yes: ['a', 1], no: ['b', '1', ['a']] },
    { op: 'exists', yes: [0, '', false], no: [null] },
    { op: 'not_exists', yes: [null], no: [0, ''] },
    { op: 'before', value: D, yes: ['2024-05-31T23:59:59.999Z'], no: [D, '2024-06-01T00:00:00.001Z', 'soon'] },
    { op: 'after', value: D, yes: ['2024-06-01T00:00:00.001Z'], no: [D, '2024-05-31'] },
    { op: 'gte', value: D, yes: [D, '2024-07-01'], no: ['2024-05-31T23:59:59.999Z'] },
    { op: 'within_last', value: '1d', yes: [new Date(Date.now() - 3_600_000).toISOString()], no: [new Date(Date.now() - 2 * 86_400_000).toISOString(), new Date(Date.now() + 3_600_000).toISOString()] },
  ];

  it('through segments, on contacts made by events', async () => {
    const segs: { id: string; yes: string[]; no: string[] }[] = [];
    let i = 0;
    for (const c of cases) {
      const prop = `v${i++}`;
      const seg = await createSegment({ property: `contact.${prop}`, op: c.op, ...(c.value !== undefined ? { value: c.value } : {}) }, `op ${c.op}`);
      const yes: string[] = [];
      const no: string[] = [];
      for (const [list, values] of [[yes, c.yes], [no, c.no]] as const) {
        for (const v of values) {
          const email = `op${i}-${list === yes ? 'y' : 'n'}${list.length}@example.com`;
          list.push(email);
          await send(email, 'user.signup', { traits: { [prop]: v } });
        }
      }
      segs.push({ id: seg.id, yes, no });
    }
    await s.drain();
    for (const [k, seg] of segs.entries()) {
      for (const e of seg.yes) expect((await segmentsOf(e)).includes(seg.id), `${cases[k]!.op} ${e}`).toBe(true);
      for (const e of seg.no) expect((await segmentsOf(e)).includes(seg.id), `${cases[k]!.op} ${e}`).toBe(false);
    }
  });

  it('performed: count gte/lte/eq at their bounds, with where', async () => {
    const gte = await createSegment({ performed: 'order', count: { gte: 2 } });
    const lte = await createSegment({ all: [{ property: 'contact.email', op: 'exists' }, { performed: 'order', count: { lte: 1 } }] });
    const eq = await createSegment({ performed: 'order', count: { eq: 2 } });
    const where = await createSegment({ performed: 'order', where: { property: 'event.total', op: 'gt', value: 100 } });
    await send('c0@example.com', 'user.signup');
    for (let k = 0; k < 1; k++) await send('c1@example.com', 'order', { properties: { total: 100 } });
    for (let k = 0; k < 2; k++) await send('c2@example.com', 'order', { properties: { total: 100 + k } });
    for (let k = 0; k < 3; k++) await send('c3@example.com', 'order', { properties: { total: 1 } });
    await s.drain();
    const member = async (e: string) => {
      const l = await segmentsOf(e);
      return [gte, lte, eq, where].map((x) => l.includes(x.id));
    };
    expect(await member('c0@example.com')).toEqual([false, true, false, false]);
    expect(await member('c1@example.com')).toEqual([false, true, false, false]);
    expect(await member('c2@example.com')).toEqual([true, false, true, true]);
    expect(await member('c3@example.com')).toEqual([true, false, false, false]);
  });
});

describe('backfill', () => {
  it('a segment created over existing contacts builds in the background to the members live evaluation gives', async () => {
    for (let k = 0; k < 30; k++) await send(`b${k}@example.com`, k % 3 === 0 ? 'trial.started' : 'user.signup', { traits: { score: k } });
    await s.drain();
    const rule = { any: [{ performed: 'trial.started' }, { property: 'contact.score', op: 'gte', value: 25 }] };
    const built = await createSegment(rule, 'backfilled');
    expect(built.status).toBe('building');
    await s.drain();
    const seg = (await api(`/v1/segments/${built.id}`)).body.segment;
    expect(seg.status).toBe('ready');
    expect(seg.build.processed).toBe(seg.build.total);
    const expected = Array.from({ length: 30 }, (_, k) => k).filter((k) => k % 3 === 0 || k >= 25).map((k) => `b${k}@example.com`).sort();
    const members: string[] = [];
    let cursor = '';
    for (;;) {
      const r = await api(`/v1/segments/${built.id}/contacts?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      members.push(...r.body.contacts.items.map((c: { properties: { email: string } }) => c.properties.email));
      if (!r.body.contacts.hasMore) break;
      cursor = r.body.contacts.cursor;
    }
    expect(members.filter((e) => e.startsWith('b')).sort()).toEqual(expected);
  });
});

describe('windows expire on time', () => {
  it('enters on the second purchase, leaves when the first falls out of a 5 s window', async () => {
    const seg = await createSegment({ performed: 'purchase', count: { gte: 2 }, within: '5s' }, '5s');
    const t0 = Date.now();
    const inSeg = async () => (await segmentsOf('w@example.com')).includes(seg.id);
    await send('w@example.com', 'purchase');
    await s.drain();
    expect(await inSeg()).toBe(false);
    await send('w@example.com', 'purchase');
    await s.drain();
    expect(await inSeg()).toBe(true);
    s.worker!.start();
    await eventually(async () => !(await inSeg()), { timeoutMs: 12_000, intervalMs: 100 });
    const left = Date.now() - t0;
    expect(left).toBeGreaterThanOrEqual(5000);
    expect(left).toBeLessThan(5000 + 4000);
    await s.worker!.stop();
  });
});

describe('segments and workflows, end to end', () => {
  it('a segment enter starts one workflow run; inSegment in a branch sees the membership; deleting the segment is a 409', async () => {
    const seg = await createSegment({ property: 'contact.tier', op: 'eq', value: 'vip' }, 'VIPs');
    const wf = await api('/v1/workflows', {
      body: {
        name: 'Welcome VIPs',
        frequency: 'every',
        trigger: { segment: seg.id, on: 'enter' },
        steps: [{ id: 'b', type: 'branch', if: { inSegment: seg.id }, then: [{ id: 'mark', type: 'update_contact', properties: { welcomed: true } }] }],
      },
    });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);
    await send('vip@example.com', 'profile.updated', { traits: { tier: 'vip' } });
    await send('vip@example.com', 'profile.updated', { traits: { tier: 'vip', seen: 2 } });
    const runs = await eventually(async () => {
      await s.drain();
      const r = await api(`/v1/workflows/${wf.body.workflow.id}/runs`);
      const items = r.body.runs.items as { status: string }[];
      return items.length === 1 && items[0]!.status === 'completed' ? items : undefined;
    }, { timeoutMs: 15_000 });
    expect(runs).toHaveLength(1);
    const contact = (await api(`/v1/contacts/search?email=vip%40example.com`)).body.contact;
    expect(contact.properties.welcomed).toBe(true);
    const del = await api(`/v1/segments/${seg.id}`, { method: 'DELETE' });
    expect(del.status).toBe(409);
    expect(del.body.code).toBe('SEGMENT_IN_USE');
    expect(del.body.message).toContain(wf.body.workflow.id);
  });
});
