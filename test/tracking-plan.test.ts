/**
 * Tracking plans (SPEC.md "Testing and governance of events") over real HTTP and storage:
 * PUT/GET/DELETE shapes and refused plans; warn and block on POST /v1/events, the batch
 * endpoint and the Segment-compatible paths; violations on the read API, counted in
 * /metrics and per workspace; allowUnplanned and patterns; the CLI; and the next event
 * seeing a new plan at once.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/testing/cli.js';
import { BACKEND } from '../src/testing/test-database.js';
import { createUser, dash, signIn } from '../src/testing/dashboard.js';
import { call, ev } from '../src/testing/http.js';
import { join, mkdtempSync, rmSync, startTestServer, tmpdir, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let dir: string;
beforeAll(async () => {
  s = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'tracking-plan-'));
});
afterAll(async () => {
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ORDER_PLAN = {
  events: [
    {
      name: 'order.completed',
      properties: {
        type: 'object',
        required: ['total', 'currency'],
        properties: { total: { type: 'number' }, currency: { type: 'string', enum: ['EUR', 'USD'] }, coupon: { type: 'string' } },
      },
    },
    { pattern: '^[a-z_]+\\.[a-z_]+$' },
  ],
};

const put = (key: string, body: unknown) => call(`${s.url}/v1/tracking-plan`, { method: 'PUT', key, body });
const send = (key: string, body: unknown) => call(`${s.url}/v1/events`, { key, body });
const batch = (key: string, events: unknown[]) => call(`${s.url}/v1/events/batch`, { key, body: { events } });
const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` });
const read = async (key: string, messageId: string) => {
  const r = await call(`${s.url}/v1/events/${messageId}`, { key });
  expect(r.status).toBe(200);
  return r.body.event as Record<string, unknown>;
};
const metric = async (labels: string) => {
  const text = (await call(`${s.url}/metrics`)).text;
  return Number(new RegExp(`^smashsend_tracking_plan_violations_total\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
};

describe('tracking plan API', () => {
  it('PUT stores the plan with a version, GET returns it, DELETE removes it; another workspace sees nothing', async () => {
    const key = await s.createKey('tp-crud');
    expect((await call(`${s.url}/v1/tracking-plan`, { key })).body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND', message: 'Tracking plan not found' });
    const r = await put(key, { mode: 'warn', allowUnplanned: false, ...ORDER_PLAN });
    expect(r.status).toBe(200);
    expect(r.body.trackingPlan).toMatchObject({ mode: 'warn', allowUnplanned: false, events: ORDER_PLAN.events, version: 1 });
    expect(Date.parse(r.body.trackingPlan.updatedAt)).toBeGreaterThan(0);
    expect((await call(`${s.url}/v1/tracking-plan`, { key })).body).toEqual(r.body);
    // allowUnplanned defaults to true; a second PUT makes version 2.
    const again = await put(key, { mode: 'block', events: [] });
    expect(again.body.trackingPlan).toMatchObject({ mode: 'block', allowUnplanned: true, events: [], version: 2 });
    const other = await s.createKey('tp-crud-other');
    expect((await call(`${s.url}/v1/tracking-plan`, { key: other })).status).toBe(404);
    expect((await call(`${s.url}/v1/tracking-plan`, { key: other, method: 'DELETE' })).status).toBe(404);
    const del = await call(`${s.url}/v1/tracking-plan`, { key, method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ isDeleted: true, trackingPlan: { mode: 'block', version: 2 } });
    expect((await call(`${s.url}/v1/tracking-plan`, { key })).status).toBe(404);
    expect((await call(`${s.url}/v1/tracking-plan`, { key, method: 'DELETE' })).status).toBe(404);
    // A new plan after a delete continues the version (caches compare it).
    expect((await put(key, { mode: 'warn', events: [] })).body.trackingPlan.version).toBe(4);
    expect((await call(`${s.url}/v1/tracking-plan`)).status).toBe(401);
    expect((await call(`${s.url}/v1/tracking-plan`, { key, method: 'POST', body: {} })).status).toBe(405);
    expect((await call(`${s.url}/v1/tracking-plan?mode=warn`, { key })).body).toMatchObject({ statusCode: 400, code: 'INVALID_QUERY' });
    // A publishable key only sends events: the plan is a secret key's.
    const pk = (await runCli(['keys', 'create', '--workspace', 'tp-crud', '--name', 'web', '--publishable'], { env: { DATABASE_URL: s.databaseUrl } })).stdout.trim().split('\n').at(-1)!;
    expect(pk).toMatch(/^pk_live_/);
    expect((await call(`${s.url}/v1/tracking-plan`, { key: pk })).status).toBe(401);
    expect((await put(pk, { mode: 'warn', events: [] })).status).toBe(401);
    expect((await call(`${s.url}/v1/tracking-plan/violations`, { key: pk })).status).toBe(401);
  });

  it('refuses invalid plans with INVALID_TRACKING_PLAN naming the path', async () => {
    const key = await s.createKey('tp-invalid');
    const refused = async (body: unknown, message: string) => {
      const r = await put(key, body);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'INVALID_TRACKING_PLAN' });
      expect(r.body.message).toContain(message);
    };
    await refused({ mode: 'loud', events: [] }, '"mode" must be "warn" or "block"');
    await refused({ mode: 'warn', events: [{ name: 'a' }, { pattern: '(' }] }, 'events[1].pattern is not a valid regular expression');
    await refused({ mode: 'warn', events: [{ name: 'a', properties: { type: 'object', properties: { n: { type: 'integr' } } } }] }, 'events[0].properties is not a valid JSON Schema');
    await refused({ mode: 'warn', events: [{ name: 'a', properties: { $ref: 'http://example.com/s.json' } }] }, 'events[0].properties is not a valid JSON Schema');
    await refused({ mode: 'warn', events: [{ name: 'a', properties: { minimum: { $data: '1/x' } } }] }, 'events[0].properties');
    await refused({ mode: 'warn', events: Array.from({ length: 1001 }, (_, i) => ({ name: `e${i}` })) }, 'more than 1000 entries');
    await refused([], 'Request body must be a JSON object');
    expect((await call(`${s.url}/v1/tracking-plan`, { key })).status).toBe(404); // nothing was stored
    const tooBig = await put(key, { mode: 'warn', events: [{ name: 'a', properties: { description: 'x'.repeat(1_100_000) } }] });
    expect(tooBig.status).toBe(413);
  });
});

describe('block mode', () => {
  it('refuses violating events on the single endpoint with TRACKING_PLAN_VIOLATION naming the rule and path; stores nothing', async () => {
    const key = await s.createKey('tp-block');
    expect((await put(key, { mode: 'block', allowUnplanned: false, ...ORDER_PLAN })).status).toBe(200);
    const before = await metric('endpoint="single",mode="block"');
    const bad = await send(key, ev({ event: 'order.completed', messageId: 'b-1', properties: { total: '12', currency: 'EUR' } }));
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'TRACKING_PLAN_VIOLATION' });
    expect(bad.body.message).toBe('Tracking plan, event "order.completed", rule "type": properties.total must be number');
    const missing = await send(key, ev({ event: 'order.completed', messageId: 'b-2', properties: { total: 1 } }));
    expect(missing.body.message).toBe('Tracking plan, event "order.completed", rule "required": properties.currency is required');
    // allowUnplanned false: a name no entry matches (the pattern wants object.action).
    const unplanned = await send(key, ev({ event: 'Signup', messageId: 'b-3' }));
    expect(unplanned.status).toBe(400);
    expect(unplanned.body).toMatchObject({ code: 'TRACKING_PLAN_VIOLATION', message: expect.stringContaining('rule "unplanned"') });
    expect(unplanned.body.message).toContain('event "Signup" matches no entry');
    // Pattern-matched and exact events that follow the plan pass.
    expect((await send(key, ev({ event: 'user.signed_up', messageId: 'b-4' }))).status).toBe(200);
    expect((await send(key, ev({ event: 'order.completed', messageId: 'b-5', properties: { total: 3, currency: 'USD' } }))).status).toBe(200);
    expect((await call(`${s.url}/v1/events/b-1`, { key })).status).toBe(404);
    // A dry run checks the plan as the real call does (the same 400, the batch's same item error), counting nothing.
    const dry = await call(`${s.url}/v1/events?dryRun=true`, { key, body: ev({ event: 'order.completed', messageId: 'b-1', properties: { total: '12', currency: 'EUR' } }) });
    expect(dry.status).toBe(400);
    expect(dry.body).toEqual(bad.body);
    const dryBatch = await call(`${s.url}/v1/events/batch?dryRun=true`, { key, body: { events: [ev({ event: 'Signup', messageId: 'b-6' }), ev({ event: 'user.signed_up', messageId: 'b-7' })] } });
    expect(dryBatch.status).toBe(207);
    expect(dryBatch.body).toMatchObject({ dryRun: true, accepted: 1, failed: 1, errors: [{ index: 0, errors: [{ code: 'TRACKING_PLAN_VIOLATION' }] }] });
    expect(await metric('endpoint="single",mode="block"')).toBe(before + 3);
    // A refused event reserves nothing: once the plan is gone, the same messageId is accepted.
    expect((await call(`${s.url}/v1/tracking-plan`, { key, method: 'DELETE' })).status).toBe(200);
    const retry = await send(key, ev({ event: 'order.completed', messageId: 'b-1', properties: { total: '12', currency: 'EUR' } }));
    expect(retry.status).toBe(200);
    expect(retry.body.duplicate).toBeUndefined();
  });

  it('fails only the violating items of a batch (207), and a batch of only violations is a 400', async () => {
    const key = await s.createKey('tp-block-batch');
    await put(key, { mode: 'block', ...ORDER_PLAN });
    const r = await batch(key, [
      ev({ event: 'order.completed', messageId: 'bb-1', properties: { total: 1, currency: 'EUR' } }),
      ev({ event: 'order.completed', messageId: 'bb-2', properties: { total: 1, currency: 'GBP' } }),
      ev({ event: 'AnythingGoes', messageId: 'bb-3' }), // allowUnplanned defaults to true
    ]);
    expect(r.status).toBe(207);
    expect(r.body).toMatchObject({ accepted: 2, failed: 1, duplicated: 0 });
    expect(r.body.errors).toEqual([{ index: 1, errors: [{ code: 'TRACKING_PLAN_VIOLATION', message: expect.stringContaining('rule "enum": properties.currency must be equal to one of the allowed values') }] }]);
    expect(r.body.events.map((e: { index: number }) => e.index)).toEqual([0, 2]);
    const all = await batch(key, [ev({ event: 'order.completed', messageId: 'bb-4' })]);
    expect(all.status).toBe(400);
    expect(all.body).toMatchObject({ code: 'ALL_EVENTS_FAILED', failed: 1, errors: [{ index: 0, errors: [{ code: 'TRACKING_PLAN_VIOLATION' }] }] });
  });

  it('rejects violating Segment-compatible calls (/v1/track, /v1/batch) in the rejected list', async () => {
    const key = await s.createKey('tp-block-segment');
    await put(key, { mode: 'block', allowUnplanned: false, events: [{ name: 'Order_Completed', properties: { required: ['total'], properties: { total: { type: 'number' } } } }] });
    const track = await call(`${s.url}/v1/track`, { headers: basic(key), body: { userId: 'seg@example.com', event: 'Order Completed', properties: { total: 'x' }, messageId: 'sb-1' } });
    expect(track.status).toBe(200);
    expect(track.body).toEqual({ success: true, rejected: [{ index: 0, code: 'TRACKING_PLAN_VIOLATION', message: expect.stringContaining('properties.total must be number') }] });
    const b = await call(`${s.url}/v1/batch`, {
      headers: basic(key),
      body: {
        batch: [
          { type: 'track', userId: 'seg@example.com', event: 'Order Completed', properties: { total: 5 }, messageId: 'sb-2' },
          { type: 'track', userId: 'seg@example.com', event: 'Something Else', messageId: 'sb-3' },
          { type: 'track', anonymousId: 'anon-1', event: 'Order Completed', properties: {}, messageId: 'sb-4' }, // held or not, it is checked
        ],
      },
    });
    expect(b.status).toBe(200);
    expect(b.body.rejected).toEqual([
      { index: 1, code: 'TRACKING_PLAN_VIOLATION', message: expect.stringContaining('"Something_Else" matches no entry') },
      { index: 2, code: 'TRACKING_PLAN_VIOLATION', message: expect.stringContaining('properties.total is required') },
    ]);
    expect((await call(`${s.url}/v1/events/sb-2`, { key })).status).toBe(200);
    expect((await call(`${s.url}/v1/events/sb-1`, { key })).status).toBe(404);
  });
});

describe('warn mode', () => {
  it('accepts violating events and shows their violations on the read API, on every path', async () => {
    const key = await s.createKey('tp-warn');
    await put(key, { mode: 'warn', allowUnplanned: false, ...ORDER_PLAN });
    const warnBefore = await metric('endpoint="single",mode="warn"');
    const single = await send(key, ev({ event: 'order.completed', messageId: 'w-1', properties: { total: 'lots', currency: 'EUR' } }));
    expect(single.status).toBe(200);
    expect(single.body).toMatchObject({ success: true, messageId: 'w-1' });
    const b = await batch(key, [ev({ event: 'Signup', messageId: 'w-2' }), ev({ event: 'order.completed', messageId: 'w-3', properties: { total: 1, currency: 'EUR' } })]);
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ accepted: 2, failed: 0 });
    const t = await call(`${s.url}/v1/track`, { headers: basic(key), body: { userId: 'w@example.com', event: 'Order Completed', messageId: 'w-4' } });
    expect(t.body).toEqual({ success: true });
    const sb = await call(`${s.url}/v1/batch`, { headers: basic(key), body: { batch: [{ type: 'track', userId: 'w@example.com', event: 'order.completed', properties: { currency: 'USD' }, messageId: 'w-5' }] } });
    expect(sb.body).toEqual({ success: true });

    expect((await read(key, 'w-1')).violations).toEqual([
      { rule: 'type', path: 'properties.total', message: 'Tracking plan, event "order.completed", rule "type": properties.total must be number' },
    ]);
    expect((await read(key, 'w-2')).violations).toEqual([{ rule: 'unplanned', path: 'event', message: expect.stringContaining('"Signup" matches no entry') }]);
    expect((await read(key, 'w-3')).violations).toBeUndefined();
    expect((await read(key, 'w-4')).violations).toEqual([{ rule: 'unplanned', path: 'event', message: expect.stringContaining('"Order_Completed"') }]);
    expect((await read(key, 'w-5')).violations).toEqual([{ rule: 'required', path: 'properties.total', message: expect.stringContaining('properties.total is required') }]);
    // The list shows them too, and processing keeps them.
    await s.drain();
    const list = await call(`${s.url}/v1/events?limit=10`, { key });
    const byId = new Map(list.body.events.items.map((e: { messageId: string }) => [e.messageId, e]));
    expect((byId.get('w-1') as { violations: unknown[]; status: string }).violations).toHaveLength(1);
    expect((byId.get('w-1') as { status: string }).status).toBe('processed');
    expect(byId.get('w-3')).not.toHaveProperty('violations');
    expect(await metric('endpoint="single",mode="warn"')).toBe(warnBefore + 1);

    // Per-workspace counts with examples, newest first.
    const v = await call(`${s.url}/v1/tracking-plan/violations`, { key });
    expect(v.status).toBe(200);
    expect(v.body.violations).toMatchObject({ counted: 4, truncated: false });
    expect(v.body.violations.counts).toEqual(
      expect.arrayContaining([
        { event: 'order.completed', rule: 'type', path: 'properties.total', count: 1, lastSeen: expect.any(String), exampleMessageId: 'w-1' },
        { event: 'Signup', rule: 'unplanned', path: 'event', count: 1, lastSeen: expect.any(String), exampleMessageId: 'w-2' },
      ]),
    );
    expect(v.body.violations.examples.map((e: { messageId: string }) => e.messageId)).toEqual(['w-5', 'w-4', 'w-2', 'w-1']);
    // Another workspace counts nothing.
    expect((await call(`${s.url}/v1/tracking-plan/violations`, { key: s.key })).body.violations).toMatchObject({ counted: 0, counts: [], examples: [] });
    // The dashboard shows the same, to a session of the workspace.
    const session = await signIn(s.url, (await createUser(s.store, ['tp-warn'])).email);
    expect((await dash(s.url, session, '/tracking-plan/violations')).body).toEqual(v.body);
    expect((await dash(s.url, session, '/tracking-plan')).body.trackingPlan).toMatchObject({ mode: 'warn', allowUnplanned: false });
  });
});

describe('warn mode, held Segment events', () => {
  it('keeps the flag of an event held as unidentified and stores it when the event is attached', async () => {
    const key = await s.createKey('tp-held');
    expect((await put(key, { mode: 'warn', events: [{ name: 'Order_Completed', properties: { required: ['total'] } }] })).status).toBe(200);
    const held = await call(`${s.url}/v1/track`, { headers: basic(key), body: { anonymousId: 'anon-held-1', event: 'Order Completed', properties: {}, messageId: 'h-1' } });
    expect(held.body).toEqual({ success: true });
    expect((await call(`${s.url}/v1/events/h-1`, { key })).status).toBe(404); // held, not an event yet
    const identify = await call(`${s.url}/v1/identify`, { headers: basic(key), body: { anonymousId: 'anon-held-1', traits: { email: 'held@example.com' }, messageId: 'h-2' } });
    expect(identify.status).toBe(200);
    await s.drain(); // the attach job appends the held event
    await s.drain();
    const e = await read(key, 'h-1');
    expect(e.email).toBe('held@example.com');
    expect(e.violations).toEqual([{ rule: 'required', path: 'properties.total', message: expect.stringContaining('properties.total is required') }]);
    expect((await read(key, 'h-2')).violations).toBeUndefined(); // the identify itself: unplanned names are allowed here
  });
});

describe('the compiled plan', () => {
  it('the next event sees a new plan at once (this process drops its copy on PUT and DELETE)', async () => {
    const key = await s.createKey('tp-cache');
    await put(key, { mode: 'block', events: [{ name: 'x.y', properties: { required: ['a'], properties: { a: { type: 'string' } } } }] });
    expect((await send(key, ev({ event: 'x.y', messageId: 'c-1' }))).status).toBe(400);
    await put(key, { mode: 'block', events: [{ name: 'x.y', properties: { properties: { a: { type: 'string' } } } }] });
    expect((await send(key, ev({ event: 'x.y', messageId: 'c-2' }))).status).toBe(200);
    await put(key, { mode: 'block', allowUnplanned: false, events: [] });
    expect((await send(key, ev({ event: 'x.y', messageId: 'c-3' }))).status).toBe(400);
    await call(`${s.url}/v1/tracking-plan`, { key, method: 'DELETE' });
    expect((await send(key, ev({ event: 'x.y', messageId: 'c-4' }))).status).toBe(200);
  });

  it.skipIf(BACKEND !== 'postgres')('PostgreSQL: a PUT on one API process is enforced by another within about a second', async () => {
    const other = await startTestServer({ database: { url: s.databaseUrl } });
    try {
      const key = await s.createKey('tp-two');
      // The other process has seen the workspace without a plan (its copy: none).
      expect((await call(`${other.url}/v1/events`, { key, body: ev({ event: 'Bad', messageId: 'two-0' }) })).status).toBe(200);
      expect((await put(key, { mode: 'block', allowUnplanned: false, events: [{ name: 'good.one' }] })).status).toBe(200);
      const started = Date.now();
      let status = 200;
      for (let i = 1; status === 200 && Date.now() - started < 5000; i++) {
        status = (await call(`${other.url}/v1/events`, { key, body: ev({ event: 'Bad', messageId: `two-${i}` }) })).status;
        if (status === 200) await new Promise((r) => setTimeout(r, 50));
      }
      expect(status).toBe(400);
      expect(Date.now() - started).toBeLessThan(2500);
      expect((await call(`${other.url}/v1/events`, { key, body: ev({ event: 'good.one', messageId: 'two-ok' }) })).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('a plan written by another process (the CLI) is seen within about a second', async () => {
    const key = await s.createKey('tp-cli');
    expect((await send(key, ev({ event: 'Not.Planned', messageId: 'cli-0' }))).status).toBe(200); // no plan: cached as none
    const file = join(dir, 'plan.json');
    writeFileSync(file, JSON.stringify({ mode: 'block', allowUnplanned: false, events: [{ pattern: '^[a-z_]+\\.[a-z_]+$' }] }));
    const applied = await runCli(['tracking-plan', 'apply', file, '--workspace', 'tp-cli'], { env: { DATABASE_URL: s.databaseUrl } });
    expect(applied.status, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('version 1');
    const deadline = Date.now() + 5000;
    let status = 200;
    for (let i = 0; status === 200 && Date.now() < deadline; i++) {
      status = (await send(key, ev({ event: 'Not.Planned', messageId: `cli-${i + 1}` }))).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(400);
    const shown = await runCli(['tracking-plan', 'show', '--workspace', 'tp-cli'], { env: { DATABASE_URL: s.databaseUrl } });
    expect(shown.status, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual((await call(`${s.url}/v1/tracking-plan`, { key })).body);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ mode: 'warn', events: [{ pattern: '(' }] }));
    const refused = await runCli(['tracking-plan', 'apply', bad, '--workspace', 'tp-cli'], { env: { DATABASE_URL: s.databaseUrl } });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('events[0].pattern');
    const deleted = await runCli(['tracking-plan', 'delete', '--workspace', 'tp-cli'], { env: { DATABASE_URL: s.databaseUrl } });
    expect(deleted.status, deleted.stderr).toBe(0);
    expect((await call(`${s.url}/v1/tracking-plan`, { key })).status).toBe(404);
    const help = await runCli(['tracking-plan', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('smashsend tracking-plan apply FILE.json [--workspace NAME]');
    expect((await runCli(['tracking-plan', 'import'])).status).toBe(2);
  });
});
