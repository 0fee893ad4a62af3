/**
 * The dashboard API of segments, workflows, runs and webhook deliveries: each answers what the
 * /v1 route of the same module answers for a key of the session's workspace; pause / activate
 * and a delivery's retry change what the public API then reads, and need the CSRF token.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing/eventually.js';
import { createUser, dash, signIn, type Session } from '../src/testing/dashboard.js';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let receiver: Server;
let base: string;
let answer = 410;
let session: Session;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(answer).end(answer === 200 ? 'ok' : 'gone for now'));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  s = await startTestServer({ backgroundWorker: true, env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '0' } });
  session = await signIn(s.url, (await createUser(s.store, ['default'])).email);
});
afterAll(async () => {
  await s?.close();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
});

const pub = (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${s.url}${path}`, { key: s.key, ...opts });

describe('dashboard segments, workflows and deliveries', () => {
  it('segments: list, one, members and transitions as the public API has them', async () => {
    const seg = await pub('/v1/segments', { body: { name: 'Pro', rule: { property: 'contact.plan', op: 'eq', value: 'pro' } } });
    expect(seg.status, JSON.stringify(seg.body)).toBe(201);
    const id = seg.body.segment.id;
    expect((await pub('/v1/events', { body: ev({ event: 'seg.in', identify: { email: 'pro@example.com', traits: { plan: 'pro' } } }) })).status).toBe(200);
    await eventually(async () => (await pub(`/v1/segments/${id}/contacts`)).body.contacts.items.length === 1, { timeoutMs: 10_000 });
    for (const path of ['/segments', `/segments/${id}`, `/segments/${id}/contacts`, `/segments/${id}/transitions`]) {
      const d = await dash(s.url, session, path);
      expect(d.status, path).toBe(200);
      expect(d.body, path).toEqual((await pub(`/v1${path}`)).body);
    }
    expect((await dash(s.url, session, `/segments/${id}/transitions`)).body.transitions.items[0]).toMatchObject({ on: 'enter', contact: { email: 'pro@example.com' } });
    expect((await dash(s.url, session, '/segments/seg_nope')).status).toBe(404);
    expect((await dash(s.url, session, '/segments?limit=0')).status).toBe(400);
  });

  it('workflows: list, one, runs, a run; pause and activate need the CSRF token', async () => {
    const wf = (await pub('/v1/workflows', { body: { name: 'Hook', trigger: { event: 'dash.hook' }, steps: [{ id: 'notify', type: 'webhook', url: `${base}/hook` }] } })).body.workflow;
    expect(wf.id).toMatch(/^wf_/);
    expect((await pub('/v1/events', { body: ev({ event: 'dash.hook', identify: { email: 'hook@example.com' } }) })).status).toBe(200);
    const run = await eventually(async () => (await pub(`/v1/workflows/${wf.id}/runs`)).body.runs.items.find((r: any) => r.status === 'failed'), { timeoutMs: 15_000 });
    for (const path of ['/workflows', `/workflows/${wf.id}`, `/workflows/${wf.id}/runs`, `/runs/${run.id}`]) {
      const d = await dash(s.url, session, path);
      expect(d.status, path).toBe(200);
      expect(d.body, path).toEqual((await pub(`/v1${path}`)).body);
    }
    expect((await dash(s.url, session, `/runs/${run.id}`)).body.run.steps[0]).toMatchObject({ id: 'notify', status: 'failed', error: expect.stringContaining('410') });

    const noCsrf = await call(`${s.url}/dashboard/api/workflows/${wf.id}/pause`, { body: {}, headers: { cookie: session.cookie } });
    expect(noCsrf.status).toBe(403);
    expect((await pub(`/v1/workflows/${wf.id}`)).body.workflow.status).toBe('active');
    const paused = await dash(s.url, session, `/workflows/${wf.id}/pause`, { body: {} });
    expect(paused.status).toBe(200);
    expect(paused.body.workflow.status).toBe('paused');
    expect((await pub(`/v1/workflows/${wf.id}`)).body.workflow.status).toBe('paused');
    expect((await dash(s.url, session, `/workflows/${wf.id}/activate`, { body: {} })).body.workflow.status).toBe('active');
    expect((await dash(s.url, session, '/workflows/wf_nope/pause', { body: {} })).status).toBe(404);
    expect((await dash(s.url, session, '/runs/run_nope')).status).toBe(404);
  });

  it('workflow versions: every saved version newest first, the current one marked', async () => {
    const v1 = { name: 'Versioned', trigger: { event: 'dash.v' }, steps: [{ id: 'a', type: 'webhook', url: `${base}/v1` }] };
    const wf = (await pub('/v1/workflows', { body: v1 })).body.workflow;
    const one = await dash(s.url, session, `/workflows/${wf.id}/versions`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual({ versions: [{ version: 1, savedAt: expect.any(String), current: true, definition: expect.objectContaining({ name: 'Versioned' }) }], total: 1 });
    const v2 = { ...v1, name: 'Versioned 2', steps: [{ id: 'b', type: 'webhook', url: `${base}/v2` }] };
    const put = await pub(`/v1/workflows/${wf.id}`, { method: 'PUT', body: v2 });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.workflow.version).toBe(2);
    // A pause changes the workflow, not its versions.
    expect((await dash(s.url, session, `/workflows/${wf.id}/pause`, { body: {} })).status).toBe(200);
    const two = (await dash(s.url, session, `/workflows/${wf.id}/versions`)).body;
    expect(two.total).toBe(2);
    expect(two.versions.map((v: any) => [v.version, v.current, v.definition.name, v.definition.steps[0].id])).toEqual([
      [2, true, 'Versioned 2', 'b'],
      [1, false, 'Versioned', 'a'],
    ]);
    expect(Date.parse(two.versions[0].savedAt)).toBeGreaterThanOrEqual(Date.parse(two.versions[1].savedAt));
    expect((await dash(s.url, session, '/workflows/wf_nope/versions')).status).toBe(404);
  });

  it('webhook deliveries: filtered by status, one with its attempts, and a retry that succeeds', async () => {
    const failed = await eventually(async () => (await dash(s.url, session, '/webhook-deliveries?status=failed')).body.deliveries.items[0], { timeoutMs: 15_000 });
    expect((await dash(s.url, session, '/webhook-deliveries?status=failed')).body).toEqual((await pub('/v1/webhook-deliveries?status=failed')).body);
    expect((await dash(s.url, session, '/webhook-deliveries?status=succeeded')).body.deliveries.items).toEqual([]);
    expect((await dash(s.url, session, '/webhook-deliveries?status=nope')).status).toBe(400);
    const one = await dash(s.url, session, `/webhook-deliveries/${failed.id}`);
    expect(one.status).toBe(200);
    expect(one.body.delivery).toEqual(failed);
    expect(one.body.delivery.attempts[0]).toMatchObject({ statusCode: 410, latencyMs: expect.any(Number), response: 'gone for now' });
    expect((await dash(s.url, session, '/webhook-deliveries/dlv_nope')).status).toBe(404);

    expect((await call(`${s.url}/dashboard/api/webhook-deliveries/${failed.id}/retry`, { body: {}, headers: { cookie: session.cookie } })).status).toBe(403);
    answer = 200;
    const retried = await dash(s.url, session, `/webhook-deliveries/${failed.id}/retry`, { body: {} });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body.delivery.status).toBe('pending');
    const done = await eventually(async () => {
      const d = (await dash(s.url, session, `/webhook-deliveries/${failed.id}`)).body.delivery;
      return d.status === 'succeeded' && d;
    }, { timeoutMs: 15_000 });
    expect(done.attempts.map((a: any) => a.statusCode)).toEqual([410, 200]);
    // The same service as POST /v1/webhook-deliveries/:id/retry: a succeeded delivery is a 409 on both.
    expect((await dash(s.url, session, `/webhook-deliveries/${failed.id}/retry`, { body: {} })).status).toBe(409);
    expect((await pub(`/v1/webhook-deliveries/${failed.id}/retry`, { method: 'POST' })).status).toBe(409);
  });
});
