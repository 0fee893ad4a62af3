/** GET /dashboard/api/events/:messageId: the event, its contact, and the workflows it started or why not. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing/eventually.js';
import { createUser, dash, signIn } from '../src/testing/dashboard.js';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ backgroundWorker: true });
});
afterAll(async () => {
  await s.close();
});

describe('dashboard event page', () => {
  it('shows the workflows the event started, as GET /v1/events/:messageId does', async () => {
    const wf = await call(`${s.url}/v1/workflows`, { key: s.key, body: { name: 'Trace', trigger: { event: 'dash.trace' }, steps: [{ id: 'w', type: 'wait', duration: '1h' }] } });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);
    const sent = await call(`${s.url}/v1/events`, { key: s.key, body: ev({ event: 'dash.trace', messageId: 'trace-1', identify: { email: 'trace@example.com' } }) });
    expect(sent.status).toBe(200);
    const session = await signIn(s.url, (await createUser(s.store, ['default'])).email);
    const page = await eventually(
      async () => {
        const r = await dash(s.url, session, '/events/trace-1');
        return r.body.workflows?.length ? r.body : null;
      },
      { timeoutMs: 10_000 },
    );
    const publicTrace = (await call(`${s.url}/v1/events/trace-1`, { key: s.key })).body.workflows;
    expect(page.workflows).toEqual(publicTrace);
    expect(page.workflows).toEqual([{ workflowId: wf.body.workflow.id, runId: expect.any(String), outcome: 'started' }]);
    expect(page.contact).toMatchObject({ properties: { email: 'trace@example.com' } });
  });
});
