/**
 * The dashboard's Failed page: failed webhook deliveries (with Retry, the service of POST
 * /v1/webhook-deliveries/:id/retry), failed events (GET /v1/events?status=failed) and the
 * workspace's dead workflow jobs (the job queue's listDead, attributed by run or delivery).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_KIND } from '../src/workflows/runner.js';
import { createUser, dash, signIn, type Session } from '../src/testing/dashboard.js';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let receiver: Server;
let base: string;
let answer = 410;
let session: Session;

beforeAll(async () => {
  receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(answer).end(answer === 200 ? 'ok' : 'gone')));
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  s = await startTestServer({ env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '0' } });
  session = await signIn(s.url, (await createUser(s.store, ['default'])).email);
});
afterAll(async () => {
  await s?.close();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
});

const pub = (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${s.url}${path}`, { key: s.key, ...opts });

/** A dead step job naming `runId`, made through the job queue port (a step that gave up after its attempts). */
async function deadStepJob(runId: string, error: string): Promise<number> {
  const now = Date.now();
  const id = (await s.store.jobs.enqueue([{ kind: STEP_KIND, key: `${runId}@dead-test`, payload: { runId, pos: [0] }, runAt: now, maxAttempts: 1 }], now))[0]!.id;
  const claimed = await s.store.jobs.claim({ workerId: 'dead-test', kinds: [STEP_KIND], limit: 10, now, leaseMs: 60_000 });
  expect(claimed.map((j) => j.id)).toContain(id);
  await s.store.jobs.fail({ workerId: 'dead-test', id, error, retryAt: null, now });
  return id;
}

describe('dashboard Failed page', () => {
  it('failed deliveries and events as the public API lists them; dead jobs of the workspace; Retry', async () => {
    expect((await dash(s.url, session, '/dead-jobs')).body).toEqual({ deadJobs: { items: [], hasMore: false } });
    const wf = (await pub('/v1/workflows', { body: { name: 'Hook', trigger: { event: 'failed.hook' }, steps: [{ id: 'notify', type: 'webhook', url: `${base}/hook` }] } })).body.workflow;
    expect((await pub('/v1/events', { body: ev({ event: 'failed.hook', identify: { email: 'failed@example.com' } }) })).status).toBe(200);
    await s.drain();
    const failed = await dash(s.url, session, '/webhook-deliveries?status=failed&limit=50');
    expect(failed.body).toEqual((await pub('/v1/webhook-deliveries?status=failed&limit=50')).body);
    const delivery = failed.body.deliveries.items[0];
    expect(delivery).toMatchObject({ workflowId: wf.id, status: 'failed' });
    expect((await dash(s.url, session, '/events?status=failed&limit=50')).body).toEqual((await pub('/v1/events?status=failed&limit=50')).body);

    const jobId = await deadStepJob(delivery.runId, 'gave up: test');
    const dead = await dash(s.url, session, '/dead-jobs');
    expect(dead.status).toBe(200);
    expect(dead.body.deadJobs.items).toEqual([
      { id: jobId, kind: STEP_KIND, attempts: 1, maxAttempts: 1, lastError: 'gave up: test', createdAt: expect.any(String), finishedAt: expect.any(String), workflowId: wf.id, runId: delivery.runId },
    ]);
    expect((await dash(s.url, session, '/dead-jobs?limit=0')).status).toBe(400);
    expect((await dash(s.url, session, '/dead-jobs?kind=x')).status).toBe(400);

    expect((await call(`${s.url}/dashboard/api/webhook-deliveries/${delivery.id}/retry`, { body: {}, headers: { cookie: session.cookie } })).status).toBe(403);
    answer = 200;
    const retried = await dash(s.url, session, `/webhook-deliveries/${delivery.id}/retry`, { body: {} });
    expect(retried.status).toBe(200);
    expect(retried.body.delivery.status).toBe('pending');
    await s.drain();
    expect((await dash(s.url, session, `/webhook-deliveries/${delivery.id}`)).body.delivery.status).toBe('succeeded');
    expect((await dash(s.url, session, '/webhook-deliveries?status=failed&limit=50')).body.deliveries.items.map((d: any) => d.id)).not.toContain(delivery.id);
  });

  it('Retry of a failed event queues it again and the worker processes it; CSRF-checked; other workspaces\' not found', async () => {
    expect((await pub('/v1/events', { body: ev({ messageId: 'retry-me', identify: { email: 'retry@example.com', traits: { plan: 'pro' } } }) })).status).toBe(200);
    // Failed for good through the queue port, as a worker that gave up would.
    const now = Date.now();
    const claimed = await s.store.queue.claim({ workerId: 'fail-test', limit: 100, now, leaseMs: 60_000 });
    await s.store.queue.fail({ workerId: 'fail-test', seqs: claimed.map((c) => c.seq), error: 'gave up: test', retryAt: null, now });
    expect((await dash(s.url, session, '/events/retry-me')).body.event.status).toBe('failed');

    expect((await call(`${s.url}/dashboard/api/events/retry-me/retry`, { body: {}, headers: { cookie: session.cookie } })).status).toBe(403);
    const other = await signIn(s.url, (await createUser(s.store, ['failed-other'])).email);
    expect((await dash(s.url, other, '/events/retry-me/retry', { body: {} })).status).toBe(404);
    expect((await dash(s.url, session, '/events/no-such/retry', { body: {} })).status).toBe(404);

    const r = await dash(s.url, session, '/events/retry-me/retry', { body: {} });
    expect(r.status).toBe(200);
    expect(r.body.event).toMatchObject({ messageId: 'retry-me', status: 'queued' });
    expect((await dash(s.url, session, '/events?status=failed&limit=50')).body.events.items.map((e: any) => e.messageId)).not.toContain('retry-me');
    const again = await dash(s.url, session, '/events/retry-me/retry', { body: {} });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'CONFLICT' });
    await s.drain();
    expect((await dash(s.url, session, '/events/retry-me')).body.event.status).toBe('processed');
    expect((await pub('/v1/contacts/search?email=retry@example.com')).body.contact.properties.plan).toBe('pro');
  });

  it('Retry of a dead job queues it again, due now, attempts reset; only the workspace\'s jobs', async () => {
    const wf = (await pub('/v1/workflows', { body: { name: 'Hook2', trigger: { event: 'dead.hook' }, steps: [{ id: 'notify', type: 'webhook', url: `${base}/hook` }] } })).body.workflow;
    expect((await pub('/v1/events', { body: ev({ event: 'dead.hook', identify: { email: 'dead@example.com' } }) })).status).toBe(200);
    await s.drain();
    const runId = (await dash(s.url, session, `/workflows/${wf.id}/runs`)).body.runs.items[0].id;
    const jobId = await deadStepJob(runId, 'gave up: retry test');
    const orphan = await deadStepJob('run_elsewhere', 'orphan');

    expect((await call(`${s.url}/dashboard/api/dead-jobs/${jobId}/retry`, { body: {}, headers: { cookie: session.cookie } })).status).toBe(403);
    expect((await dash(s.url, session, `/dead-jobs/${orphan}/retry`, { body: {} })).status).toBe(404);
    expect((await dash(s.url, session, '/dead-jobs/abc/retry', { body: {} })).status).toBe(404);
    const other = await signIn(s.url, (await createUser(s.store, ['failed-other'])).email);
    expect((await dash(s.url, other, `/dead-jobs/${jobId}/retry`, { body: {} })).status).toBe(404);

    const r = await dash(s.url, session, `/dead-jobs/${jobId}/retry`, { body: {} });
    expect(r.status).toBe(200);
    expect(r.body.job).toMatchObject({ id: jobId, status: 'queued', attempts: 0, workflowId: wf.id, runId });
    expect((await s.store.jobs.get(jobId))).toMatchObject({ status: 'queued', attempts: 0 });
    expect((await dash(s.url, session, '/dead-jobs')).body.deadJobs.items.map((j: any) => j.id)).not.toContain(jobId);
    expect((await dash(s.url, session, `/dead-jobs/${jobId}/retry`, { body: {} })).status).toBe(409);
  });

  it('a dead job whose run is not in any workspace of the session is not listed', async () => {
    await deadStepJob('run_nowhere', 'orphan');
    expect((await dash(s.url, session, '/dead-jobs')).body.deadJobs.items.map((j: any) => j.runId)).not.toContain('run_nowhere');
  });
});
