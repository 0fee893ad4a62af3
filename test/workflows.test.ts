/**
 * The workflow engine over real HTTP with a real background worker: webhook deliveries to a
 * real receiver, verified with the `standardwebhooks` package; entry rules (dedup, once,
 * backdated, filtered, paused), exitWhen, waits, versions, retries, 410, redirects, a hanging
 * destination, the egress filter, and the event trace.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing/eventually.js';
import { call } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  payload: any;
}

let s: TestServer;
let receiver: Server;
let base: string;
let secret: string;
const received: Received[] = [];
/** Per path: what to answer (a list consumed in order, then the last one repeats). */
const plans = new Map<string, ((res: ServerResponse) => void)[]>();
const hanging: ServerResponse[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      // Verified like a real receiver would: a bad signature throws.
      const payload = new Webhook(secret).verify(body, req.headers as Record<string, string>);
      received.push({ path, headers: req.headers, body, payload });
      const plan = plans.get(path);
      const answer = plan && plan.length > 1 ? plan.shift()! : plan?.[0];
      if (answer) answer(res);
      else res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  s = await startTestServer({
    backgroundWorker: true,
    env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '0,0,0', WEBHOOK_TIMEOUT_MS: '8000', RATE_LIMIT_SINGLE_PER_MIN: '100000', RATE_LIMIT_API_PER_MIN: '100000' },
  });
  secret = (await call(`${s.url}/v1/settings/webhook-secret`, { key: s.key })).body.secret;
});
afterAll(async () => {
  for (const r of hanging) r.destroy();
  await s?.close();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
});

const api = (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${s.url}${path}`, { key: s.key, ...opts });
const at = (path: string) => received.filter((r) => r.path === path);

async function createWorkflow(body: Record<string, unknown>): Promise<any> {
  const r = await api('/v1/workflows', { body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.workflow;
}

function hook(path: string, id = 'notify') {
  return { id, type: 'webhook', url: `${base}${path}`, headers: { 'x-test': path } };
}

async function send(event: string, email: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await api('/v1/events', { body: { event, identify: { email }, ...extra } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.messageId;
}

async function runs(wfId: string, query = ''): Promise<any[]> {
  return (await api(`/v1/workflows/${wfId}/runs${query}`)).body.runs.items;
}

async function traceOf(messageId: string, wfId: string): Promise<any> {
  return eventually(async () => (await api(`/v1/events/${messageId}`)).body.workflows?.find((w: any) => w.workflowId === wfId), { timeoutMs: 10_000 });
}

describe('workflows API', () => {
  it('creates, reads, lists, updates (new version), pauses, activates and deletes; another workspace sees 404', async () => {
    const wf = await createWorkflow({ name: 'Welcome', trigger: { event: 'api.check' }, steps: [{ id: 'w', type: 'wait', duration: '1h' }] });
    expect(wf).toMatchObject({ id: expect.stringMatching(/^wf_/), version: 1, name: 'Welcome', frequency: 'once', status: 'active', trigger: { event: 'api.check' } });
    expect((await api(`/v1/workflows/${wf.id}`)).body.workflow).toEqual(wf);
    const put = await api(`/v1/workflows/${wf.id}`, { method: 'PUT', body: { name: 'Welcome 2', trigger: { event: 'api.check' }, steps: [] } });
    expect(put.body.workflow).toMatchObject({ version: 2, name: 'Welcome 2' });
    expect((await api(`/v1/workflows/${wf.id}/pause`, { method: 'POST' })).body.workflow.status).toBe('paused');
    expect((await api(`/v1/workflows/${wf.id}/activate`, { method: 'POST' })).body.workflow.status).toBe('active');
    const list = (await api('/v1/workflows?limit=100')).body.workflows;
    expect(list.items.map((w: any) => w.id)).toContain(wf.id);
    const other = await s.createKey('other-ws');
    expect((await call(`${s.url}/v1/workflows/${wf.id}`, { key: other })).status).toBe(404);
    expect((await call(`${s.url}/v1/workflows/${wf.id}`, { key: other, method: 'DELETE' })).status).toBe(404);
    expect((await api(`/v1/workflows/${wf.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api(`/v1/workflows/${wf.id}`)).status).toBe(404);
  });

  it('refuses an invalid condition with INVALID_CONDITION naming the path, and bad steps with INVALID_BODY', async () => {
    const bad = await api('/v1/workflows', { body: { name: 'x', trigger: { event: 'a', where: { property: 'contact.plan', op: 'nope' } }, steps: [] } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_CONDITION');
    expect(bad.body.message).toContain('trigger.where');
    const dur = await api('/v1/workflows', { body: { name: 'x', trigger: { event: 'a' }, steps: [{ id: 'w', type: 'wait', duration: 'soon' }] } });
    expect(dur.status).toBe(400);
    expect(dur.body.message).toContain('steps[0].duration');
    const seg = await api('/v1/workflows', { body: { name: 'x', trigger: { segment: 'seg_1', on: 'enter' }, steps: [] } });
    expect(seg.status).toBe(400);
    expect(seg.body.message).toContain('segment seg_1 does not exist');
    expect((await api('/v1/workflows?bogus=1')).body.code).toBe('INVALID_QUERY');
  });
});

describe('webhook step', () => {
  it('delivers a Standard Webhooks request, signed, with the run, contact and event; the trace says started', async () => {
    const wf = await createWorkflow({ name: 'Hook', trigger: { event: 'hook.basic' }, steps: [hook('/basic')] });
    const messageId = await send('hook.basic', 'basic@example.com', { properties: { plan: 'pro' } });
    const r = await eventually(() => at('/basic')[0], { timeoutMs: 10_000 });
    expect(r.headers['webhook-id']).toMatch(/^dlv_/);
    expect(r.headers['x-test']).toBe('/basic');
    expect(r.payload).toMatchObject({
      type: 'workflow.webhook',
      data: { workflowId: wf.id, version: 1, stepId: 'notify', contact: { email: 'basic@example.com' }, event: { messageId, event: 'hook.basic', properties: { plan: 'pro' } } },
    });
    const trace = await traceOf(messageId, wf.id);
    expect(trace).toEqual({ workflowId: wf.id, runId: r.payload.data.runId, outcome: 'started' });
    const run = await eventually(async () => {
      const b = (await api(`/v1/runs/${trace.runId}`)).body.run;
      return b.status === 'completed' && b;
    }, { timeoutMs: 10_000 });
    expect(run.steps).toEqual([{ id: 'notify', status: 'completed', attempts: 1, startedAt: expect.any(String), finishedAt: expect.any(String) }]);
    const dl = (await api(`/v1/webhook-deliveries?workflowId=${wf.id}`)).body.deliveries.items;
    expect(dl).toHaveLength(1);
    expect(dl[0]).toMatchObject({ id: r.headers['webhook-id'], status: 'succeeded', attempts: [{ statusCode: 200, response: 'ok' }] });
  });

  it('the same event twice, and a retried batch, start one run', async () => {
    const wf = await createWorkflow({ name: 'Dedup', frequency: 'every', trigger: { event: 'hook.dedup' }, steps: [hook('/dedup')] });
    const ev = { event: 'hook.dedup', identify: { email: 'dedup@example.com' }, messageId: 'msg-dedup-1' };
    expect((await api('/v1/events', { body: ev })).status).toBe(200);
    expect((await api('/v1/events', { body: ev })).status).toBe(200);
    const batch = { events: [{ ...ev, messageId: 'msg-dedup-2' }, { ...ev, messageId: 'msg-dedup-3' }] };
    expect((await api('/v1/events/batch', { body: batch })).status).toBe(200);
    expect((await api('/v1/events/batch', { body: batch })).status).toBe(200);
    await eventually(() => at('/dedup').length >= 3, { timeoutMs: 10_000 });
    await traceOf('msg-dedup-3', wf.id);
    await s.drain();
    expect(await runs(wf.id)).toHaveLength(3);
    expect(new Set(at('/dedup').map((r) => r.payload.data.event.messageId))).toEqual(new Set(['msg-dedup-1', 'msg-dedup-2', 'msg-dedup-3']));
  });

  it('frequency once holds across two events; a 73-hour backdated event starts nothing (backdated); where filters', async () => {
    const wf = await createWorkflow({ name: 'Once', trigger: { event: 'hook.once', where: { property: 'event.plan', op: 'eq', value: 'pro' } }, steps: [hook('/once')] });
    const first = await send('hook.once', 'once@example.com', { properties: { plan: 'pro', n: 1 } });
    const second = await send('hook.once', 'once@example.com', { properties: { plan: 'pro', n: 2 } });
    expect((await traceOf(first, wf.id)).outcome).toBe('started');
    expect(await traceOf(second, wf.id)).toEqual({ workflowId: wf.id, outcome: 'not_entered', reason: 'already_entered' });
    const old = await send('hook.once', 'old@example.com', { properties: { plan: 'pro' }, timestamp: new Date(Date.now() - 73 * 3_600_000).toISOString() });
    expect(await traceOf(old, wf.id)).toEqual({ workflowId: wf.id, outcome: 'not_entered', reason: 'backdated' });
    const free = await send('hook.once', 'free@example.com', { properties: { plan: 'free' } });
    expect(await traceOf(free, wf.id)).toEqual({ workflowId: wf.id, outcome: 'not_entered', reason: 'filtered' });
    expect(await runs(wf.id)).toHaveLength(1);
  });

  it('a paused workflow starts nothing (paused)', async () => {
    const wf = await createWorkflow({ name: 'Paused', status: 'paused', trigger: { event: 'hook.paused' }, steps: [hook('/paused')] });
    const m = await send('hook.paused', 'paused@example.com');
    expect(await traceOf(m, wf.id)).toEqual({ workflowId: wf.id, outcome: 'not_entered', reason: 'paused' });
  });

  it('500 twice then 200: three attempts with one webhook-id', async () => {
    const fail = (res: ServerResponse) => res.writeHead(500).end('boom');
    plans.set('/flaky', [fail, fail, (res) => res.writeHead(200).end('fine')]);
    const wf = await createWorkflow({ name: 'Flaky', trigger: { event: 'hook.flaky' }, steps: [hook('/flaky')] });
    await send('hook.flaky', 'flaky@example.com');
    await eventually(() => at('/flaky').length >= 3, { timeoutMs: 15_000 });
    const d = await eventually(async () => {
      const x = (await api(`/v1/webhook-deliveries?workflowId=${wf.id}`)).body.deliveries.items[0];
      return x?.status === 'succeeded' && x;
    }, { timeoutMs: 10_000 });
    expect(d.attempts.map((a: any) => a.statusCode)).toEqual([500, 500, 200]);
    expect(new Set(at('/flaky').map((r) => r.headers['webhook-id']))).toEqual(new Set([d.id]));
    expect(at('/flaky')).toHaveLength(3);
  });

  it('a 410 fails the step at once; a redirect is a failure, not followed; a failed delivery can be retried', async () => {
    plans.set('/gone', [(res) => res.writeHead(410).end('gone')]);
    plans.set('/redirect', [(res) => res.writeHead(302, { location: `${base}/target` }).end()]);
    const gone = await createWorkflow({ name: 'Gone', trigger: { event: 'hook.gone' }, steps: [hook('/gone'), hook('/after-gone', 'second')] });
    const redirect = await createWorkflow({ name: 'Redirect', trigger: { event: 'hook.redirect' }, steps: [hook('/redirect')] });
    await send('hook.gone', 'gone@example.com');
    await send('hook.redirect', 'redirect@example.com');
    const failed = async (wfId: string) =>
      eventually(async () => {
        const x = (await api(`/v1/webhook-deliveries?status=failed&workflowId=${wfId}`)).body.deliveries.items[0];
        return x ?? null;
      }, { timeoutMs: 15_000 });
    const g = await failed(gone.id);
    expect(g.attempts).toHaveLength(1);
    expect(g.attempts[0].statusCode).toBe(410);
    // The delivery is recorded failed first, then its step and run: wait for the run.
    const goneRun = await eventually(async () => {
      const r = (await runs(gone.id))[0];
      return r?.status === 'failed' && r;
    }, { timeoutMs: 10_000 });
    expect(goneRun.steps[0]).toMatchObject({ id: 'notify', status: 'failed', error: expect.stringContaining('410') });
    expect(goneRun.steps[1]).toMatchObject({ id: 'second', status: 'pending' });
    const rd = await failed(redirect.id);
    expect(rd.attempts.length).toBe(4); // first + the three retries of WEBHOOK_RETRY_SCHEDULE
    expect(at('/target')).toHaveLength(0);
    // Retry by hand: the destination is fixed now.
    plans.set('/gone', [(res) => res.writeHead(200).end('back')]);
    const retry = await api(`/v1/webhook-deliveries/${g.id}/retry`, { method: 'POST' });
    expect(retry.status).toBe(200);
    await eventually(async () => (await runs(gone.id))[0].status === 'completed', { timeoutMs: 10_000 });
    expect(at('/gone').map((r) => r.headers['webhook-id'])).toEqual([g.id, g.id]);
    expect(at('/after-gone')).toHaveLength(1);
    expect((await api(`/v1/webhook-deliveries/${g.id}/retry`, { method: 'POST' })).status).toBe(409);
    expect((await api('/v1/webhook-deliveries/dlv_nope/retry', { method: 'POST' })).status).toBe(404);
  });

  it('a hanging destination does not delay a second workflow\'s deliveries', async () => {
    plans.set('/hang', [(res) => void hanging.push(res)]);
    await createWorkflow({ name: 'Hang', trigger: { event: 'hook.hang' }, steps: [hook('/hang')] });
    await createWorkflow({ name: 'Fast', trigger: { event: 'hook.fast' }, steps: [hook('/fast')] });
    for (let i = 0; i < 5; i++) await send('hook.hang', `hang${i}@example.com`);
    await eventually(() => at('/hang').length >= 5, { timeoutMs: 10_000 });
    const t0 = Date.now();
    await send('hook.fast', 'fast@example.com');
    await eventually(() => at('/fast').length >= 1, { timeoutMs: 4000 });
    expect(Date.now() - t0).toBeLessThan(4000);
    plans.set('/hang', [(res) => res.writeHead(200).end('ok')]);
    for (const r of hanging.splice(0)) r.destroy();
  });
});

describe('signing secret rotation', () => {
  it('after a rotation a delivery carries both signatures: receivers on the old or the new secret verify it', async () => {
    const old = secret;
    const rotated = await api('/v1/settings/webhook-secret/rotate', { method: 'POST' });
    expect(rotated.status).toBe(200);
    secret = (await api('/v1/settings/webhook-secret')).body.secret;
    expect(secret).not.toBe(old);
    await createWorkflow({ name: 'Rotated', trigger: { event: 'hook.rotated' }, steps: [hook('/rotated')] });
    await send('hook.rotated', 'rotated@example.com');
    const r = await eventually(() => at('/rotated')[0], { timeoutMs: 10_000 });
    expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(new Webhook(old).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ type: 'workflow.webhook' });
    expect(new Webhook(secret).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ type: 'workflow.webhook' });
  });
});

describe('waits, exitWhen and versions', () => {
  it('exitWhen ends a waiting run', async () => {
    const wf = await createWorkflow({
      name: 'Exit',
      trigger: { event: 'cart.abandoned' },
      exitWhen: { event: 'purchase.completed' },
      steps: [{ id: 'wait', type: 'wait', duration: '1h' }, hook('/exit-never')],
    });
    const m = await send('cart.abandoned', 'exit@example.com');
    const { runId } = await traceOf(m, wf.id);
    const waiting = await eventually(async () => {
      const r = (await api(`/v1/runs/${runId}`)).body.run;
      return r.status === 'waiting' && r;
    }, { timeoutMs: 10_000 });
    expect(Date.parse(waiting.wakeAt)).toBeGreaterThan(Date.now() + 3_500_000);
    await send('purchase.completed', 'exit@example.com');
    await eventually(async () => (await api(`/v1/runs/${runId}`)).body.run.status === 'exited', { timeoutMs: 10_000 });
  });

  it('a 2-second wait fires once; editing a workflow while runs wait: old runs finish on their version', async () => {
    const wf = await createWorkflow({ name: 'Wait', frequency: 'every', trigger: { event: 'wait.start' }, steps: [{ id: 'wait', type: 'wait', duration: '2s' }, hook('/v1-hook')] });
    const m = await send('wait.start', 'wait@example.com');
    const { runId } = await traceOf(m, wf.id);
    await eventually(async () => (await api(`/v1/runs/${runId}`)).body.run.status === 'waiting', { timeoutMs: 10_000 });
    const put = await api(`/v1/workflows/${wf.id}`, { method: 'PUT', body: { name: 'Wait', frequency: 'every', trigger: { event: 'wait.start' }, steps: [{ id: 'wait', type: 'wait', duration: '1s' }, hook('/v2-hook')] } });
    expect(put.body.workflow.version).toBe(2);
    const m2 = await send('wait.start', 'wait@example.com', { properties: { second: true } });
    await eventually(() => at('/v1-hook').length >= 1 && at('/v2-hook').length >= 1, { timeoutMs: 15_000 });
    expect(at('/v1-hook')[0]!.payload.data).toMatchObject({ runId, version: 1 });
    expect(at('/v2-hook')[0]!.payload.data).toMatchObject({ runId: (await traceOf(m2, wf.id)).runId, version: 2 });
    const run = await eventually(async () => {
      const r = (await api(`/v1/runs/${runId}`)).body.run;
      return r.status === 'completed' && r;
    }, { timeoutMs: 5000 });
    expect(run.steps.map((x: any) => [x.id, x.status])).toEqual([['wait', 'completed'], ['notify', 'completed']]);
    expect(at('/v1-hook')).toHaveLength(1);
  });

  it('pausing holds a waiting run past its wake time; activating resumes it', async () => {
    const wf = await createWorkflow({ name: 'Hold', trigger: { event: 'hold.start' }, steps: [{ id: 'wait', type: 'wait', duration: '1s' }, hook('/held')] });
    const m = await send('hold.start', 'hold@example.com');
    const { runId } = await traceOf(m, wf.id);
    await eventually(async () => (await api(`/v1/runs/${runId}`)).body.run.status === 'waiting', { timeoutMs: 10_000 });
    await api(`/v1/workflows/${wf.id}/pause`, { method: 'POST' });
    const wakeAt = Date.parse((await api(`/v1/runs/${runId}`)).body.run.wakeAt);
    // Past its wake time (and a check of the paused step), the run still waits.
    await eventually(() => Date.now() > wakeAt + 1500, { timeoutMs: 10_000, intervalMs: 100 });
    expect((await api(`/v1/runs/${runId}`)).body.run.status).toBe('waiting');
    expect(at('/held')).toHaveLength(0);
    await api(`/v1/workflows/${wf.id}/activate`, { method: 'POST' });
    await eventually(async () => (await api(`/v1/runs/${runId}`)).body.run.status === 'completed', { timeoutMs: 15_000 });
    expect(at('/held')).toHaveLength(1);
  });

  it('branch and update_contact: the branch picks its list by the contact; the contact is updated', async () => {
    const wf = await createWorkflow({
      name: 'Branch',
      trigger: { event: 'branch.start' },
      steps: [
        { id: 'tag', type: 'update_contact', properties: { onboarded: true } },
        { id: 'b', type: 'branch', if: { property: 'contact.onboarded', op: 'eq', value: true }, then: [hook('/branch-then', 't')], else: [hook('/branch-else', 'e')] },
        hook('/branch-after', 'after'),
      ],
    });
    const m = await send('branch.start', 'branch@example.com');
    await eventually(() => at('/branch-after').length >= 1, { timeoutMs: 10_000 });
    expect(at('/branch-then')).toHaveLength(1);
    expect(at('/branch-else')).toHaveLength(0);
    const runId = (await traceOf(m, wf.id)).runId;
    const run = await eventually(async () => {
      const r = (await api(`/v1/runs/${runId}`)).body.run;
      return r.status === 'completed' && r;
    }, { timeoutMs: 5000 });
    expect(run.steps.map((x: any) => [x.id, x.status])).toEqual([['tag', 'completed'], ['b', 'completed'], ['t', 'completed'], ['e', 'pending'], ['after', 'completed']]);
  });
});

describe('egress', () => {
  it('a loopback URL is refused without WEBHOOK_ALLOW_PRIVATE', async () => {
    const strict = await startTestServer();
    try {
      const r = await call(`${strict.url}/v1/workflows`, { key: strict.key, body: { name: 'x', trigger: { event: 'a' }, steps: [hook('/x')] } });
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(/steps\[0\]\.url/);
    } finally {
      await strict.close();
    }
  });
});
