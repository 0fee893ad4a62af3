/**
 * The workflow engine across process deaths, as real processes: a 2-second wait survives a
 * kill -9 and a restart in the middle of it and fires once; on PostgreSQL, two workers and
 * 1,000 contacts triggering one workflow give exactly 1,000 runs and, after a worker is
 * kill -9ed mid-flight, every delivery id arrives at least once and no run starts twice.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing/eventually.js';
import { runSmashsend, startServerProcess, startSmashsend, type Child } from '../src/testing/server-process.js';
import { BACKEND, createTestDatabase, REDIS_URL, type PostgresTestDatabase } from '../src/testing/test-database.js';
import { call } from '../src/testing/http.js';

let receiver: Server;
let base: string;
const secrets = new Map<string, string>();
const received: { id: string; runId: string; workspaceId: string }[] = [];
let secret = '';

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const payload = new Webhook(secret).verify(body, req.headers as Record<string, string>) as any;
      received.push({ id: String(req.headers['webhook-id']), runId: payload.data.runId, workspaceId: '' });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
  void secrets;
});

describe('a durable wait', () => {
  it('fires once after a kill -9 and a restart in the middle of it', async () => {
    const sp = await startServerProcess({ env: { WEBHOOK_ALLOW_PRIVATE: 'true', WORKER_POLL_MS: '20' } });
    try {
      const key = sp.key;
      secret = (await call(`${sp.url}/v1/settings/webhook-secret`, { key })).body.secret;
      const wf = (
        await call(`${sp.url}/v1/workflows`, {
          key,
          body: { name: 'Wait', trigger: { event: 'restart.wait' }, steps: [{ id: 'wait', type: 'wait', duration: '2s' }, { id: 'hook', type: 'webhook', url: `${base}/restart` }] },
        })
      ).body.workflow;
      const m = (await call(`${sp.url}/v1/events`, { key, body: { event: 'restart.wait', identify: { email: 'restart@example.com' } } })).body.messageId;
      const runId = await eventually(async () => (await call(`${sp.url}/v1/events/${m}`, { key })).body.workflows?.[0]?.runId, { timeoutMs: 10_000 });
      await eventually(async () => (await call(`${sp.url}/v1/runs/${runId}`, { key })).body.run.status === 'waiting', { timeoutMs: 10_000 });
      await sp.kill9();
      await sp.restart();
      const run = await eventually(async () => {
        const r = (await call(`${sp.url}/v1/runs/${runId}`, { key })).body.run;
        return r.status === 'completed' && r;
      }, { timeoutMs: 20_000 });
      expect(run.workflowId).toBe(wf.id);
      expect(received.filter((r) => r.runId === runId)).toHaveLength(1);
    } finally {
      await sp.dispose();
    }
  });
});

describe.skipIf(BACKEND !== 'postgres')('two workers on PostgreSQL', () => {
  let db: PostgresTestDatabase;
  let env: Record<string, string>;
  let api: Child;
  const workers: Child[] = [];
  const launchWorker = () => startSmashsend(['worker'], { env: { ...process.env, ...env }, ready: /worker \S+ running/ });

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    env = { DATABASE_URL: db.url, REDIS_URL, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', WORKER_POLL_MS: '20', WORKER_PORT: '0', WEBHOOK_ALLOW_PRIVATE: 'true', RATE_LIMIT_BATCH_PER_MIN: '10000', RATE_LIMIT_API_PER_MIN: '100000' };
    runSmashsend(['migrate'], { env: { ...process.env, ...env } });
    api = await startSmashsend(['serve', '--no-worker'], { env: { ...process.env, ...env }, ready: /Listening on http:\/\/127\.0\.0\.1:\d+/ });
    for (let i = 0; i < 2; i++) workers.push(await launchWorker());
  });
  afterAll(async () => {
    await Promise.all([api, ...workers].filter(Boolean).map((p) => p.kill9()));
    await db?.drop();
  });

  it('1,000 contacts: exactly 1,000 runs; a worker killed mid-flight loses no delivery and starts no run twice', async () => {
    const url = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(api.output())![1]!;
    const k = runSmashsend(['keys', 'create', '--workspace', 'scale'], { env: { ...process.env, ...env } });
    const key = k.stdout.trim().split('\n').pop()!;
    secret = (await call(`${url}/v1/settings/webhook-secret`, { key })).body.secret;
    received.length = 0;
    const wf = (await call(`${url}/v1/workflows`, { key, body: { name: 'Scale', trigger: { event: 'scale.signup' }, steps: [{ id: 'hook', type: 'webhook', url: `${base}/scale` }] } })).body.workflow;
    for (let b = 0; b < 10; b++) {
      const events = Array.from({ length: 100 }, (_, i) => ({ event: 'scale.signup', identify: { email: `u${b * 100 + i}@example.com` }, messageId: `scale-${b * 100 + i}` }));
      expect((await call(`${url}/v1/events/batch`, { key, body: { events } })).status).toBe(200);
    }
    // Kill one worker while the runs are being delivered, start a new one.
    await eventually(() => received.length >= 100, { timeoutMs: 60_000 });
    await workers[0]!.kill9();
    workers[0] = await launchWorker();
    const deliveries = async () => {
      const ids = new Set<string>();
      let cursor = '';
      for (;;) {
        const r = (await call(`${url}/v1/webhook-deliveries?workflowId=${wf.id}&limit=100${cursor ? `&cursor=${cursor}` : ''}`, { key })).body.deliveries;
        for (const d of r.items) ids.add(d.id);
        if (!r.hasMore) return ids;
        cursor = r.cursor;
      }
    };
    await eventually(async () => new Set(received.map((r) => r.id)).size >= 1000, { timeoutMs: 120_000, intervalMs: 200 });
    const all = await deliveries();
    expect(all.size).toBe(1000);
    for (const id of all) expect(received.some((r) => r.id === id)).toBe(true);
    const runIds = new Set<string>();
    let cursor = '';
    for (;;) {
      const r = (await call(`${url}/v1/workflows/${wf.id}/runs?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { key })).body.runs;
      for (const x of r.items) runIds.add(x.id);
      if (!r.hasMore) break;
      cursor = r.cursor;
    }
    expect(runIds.size).toBe(1000);
    expect(new Set(received.map((r) => r.runId)).size).toBe(1000);
  });
});
