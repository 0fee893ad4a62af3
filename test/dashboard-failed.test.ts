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

  it('a dead job whose run is not in any workspace of the session is not listed', async () => {
    await deadStepJob('run_nowhere', 'orphan');
    expect((await dash(s.url, session, '/dead-jobs')).body.deadJobs.items.map((j: any) => j.runId)).not.toContain('run_nowhere');
  });
});
