/**
 * Workflow replay (POST /v1/workflows/replay): over 1,000 stored events, the replay of an
 * active workflow's definition says exactly what live processing did (who entered, who did not
 * and why, the emails written to the outbox, the webhook bodies delivered); a replay sends
 * and stores nothing; waits run in simulated event time, and exitWhen ends a waiting run.
 * On SQLite, and on PostgreSQL with TEST_BACKEND=postgres.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing/eventually.js';
import { call } from '../src/testing/http.js';
import { tableCounts } from '../src/testing/table-counts.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';
import { ReplayRangeTooLargeError, replayWorkflow } from '../src/workflows/replay.js';

let s: TestServer;
let receiver: Server;
let base: string;
let outbox: string;
const received: any[] = [];
const HOUR = 3600_000;
const T0 = Date.now();
const since = new Date(T0 - 101 * HOUR).toISOString();
const until = new Date(T0 + 60_000).toISOString();

const api = (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${s.url}${path}`, { key: s.key, ...opts });

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  outbox = mkdtempSync(join(tmpdir(), 'smashsend-replay-outbox-'));
  s = await startTestServer({
    backgroundWorker: true,
    env: {
      WEBHOOK_ALLOW_PRIVATE: 'true',
      OUTBOX_DIR: outbox,
      EMAIL_FROM: 'Team <team@mail.example.com>',
      RATE_LIMIT_SINGLE_PER_MIN: '100000',
      RATE_LIMIT_BATCH_PER_MIN: '100000',
      RATE_LIMIT_API_PER_MIN: '100000',
    },
  });
});

afterAll(async () => {
  await s?.close();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
  rmSync(outbox, { recursive: true, force: true });
});

const CONTACTS = 250;
const emailOf = (i: number) => `buyer${i}@example.com`;
const traitsOf = (i: number) => ({ firstName: `Buyer${i}`, plan: i % 3 === 0 ? 'pro' : 'free' });

function definition(name: string, url: string) {
  return {
    name,
    trigger: { event: 'order.placed', where: { property: 'event.amount', op: 'gte', value: 20 } },
    frequency: 'once',
    steps: [
      { id: 'pause', type: 'wait', duration: '1s' },
      {
        id: 'tier',
        type: 'branch',
        if: { property: 'contact.plan', op: 'eq', value: 'pro' },
        then: [{ id: 'mail', type: 'email', subject: 'Thanks {{ contact.firstName }}', text: 'You spent {{ event.properties.amount }} ({{ workflow.name }})' }],
        else: [{ id: 'hook', type: 'webhook', url, headers: { 'x-replay': 'no' } }],
      },
    ],
  };
}

async function sendBatches(events: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < events.length; i += 200) {
    const r = await api('/v1/events/batch', { body: { events: events.slice(i, i + 200) } });
    expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(200);
  }
}

async function allRuns(workflowId: string): Promise<any[]> {
  const out: any[] = [];
  let cursor = '';
  for (;;) {
    const r = await api(`/v1/workflows/${workflowId}/runs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...r.body.runs.items);
    if (!r.body.runs.hasMore) return out;
    cursor = r.body.runs.cursor;
  }
}

async function outboxMails(): Promise<{ to: string; subject: string; text: string }[]> {
  const names = readdirSync(outbox).filter((n) => n.endsWith('.eml'));
  return Promise.all(
    names.map(async (n) => {
      const m = await simpleParser(readFileSync(join(outbox, n)));
      return { to: m.to && !Array.isArray(m.to) ? m.to.value[0]!.address! : '', subject: m.subject ?? '', text: (m.text ?? '').trim() };
    }),
  );
}

/** A webhook body without what differs per run by construction (the run id, the send time). */
function comparableBody(b: any) {
  const { runId: _r, ...data } = b.data;
  return { type: b.type, data };
}

describe('POST /v1/workflows/replay', () => {
  it('over 1,000 stored events, matches what live processing did', async () => {
    const created = await api('/v1/workflows', { body: definition('Big spenders', `${base}/hook`) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const wf = created.body.workflow;

    // Phase 1: 750 events. Per contact: a small order (filtered), a big one (enters), another
    // small one; every tenth contact's big order is a backfill 100 h old (backdated).
    const phase1: Record<string, unknown>[] = [];
    for (let i = 0; i < CONTACTS; i++) {
      const identify = { email: emailOf(i), traits: traitsOf(i) };
      const at = T0 - HOUR + i * 1000;
      phase1.push({ event: 'order.placed', messageId: `p1-${i}-0`, identify, properties: { amount: 5 }, timestamp: at });
      const big = i % 10 === 0 ? T0 - 100 * HOUR + i * 1000 : at + 1;
      phase1.push({ event: 'order.placed', messageId: `p1-${i}-1`, identify, properties: { amount: 25 + (i % 7) }, timestamp: big });
      phase1.push({ event: 'order.placed', messageId: `p1-${i}-2`, identify, properties: { amount: 10 }, timestamp: at + 2 });
    }
    await sendBatches(phase1);
    await eventually(async () => (await allRuns(wf.id)).length === CONTACTS - CONTACTS / 10, { timeoutMs: 60_000, intervalMs: 200, what: 'phase 1 runs' });
    // Phase 2, once phase 1 has entered: one more big order each: a second entry of a `once`
    // workflow for most (already_entered), the first one for the backdated tenth.
    const phase2 = Array.from({ length: CONTACTS }, (_, i) => ({ event: 'order.placed', messageId: `p2-${i}`, identify: { email: emailOf(i), traits: traitsOf(i) }, properties: { amount: 40 }, timestamp: T0 - HOUR / 2 + i }));
    await sendBatches(phase2);
    const live = await eventually(
      async () => {
        const runs = await allRuns(wf.id);
        return runs.length === CONTACTS && runs.every((r) => r.status === 'completed') && runs;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: 'every run completed' },
    );
    await eventually(async () => received.length + readdirSync(outbox).length === CONTACTS, { timeoutMs: 30_000, what: 'every email and webhook' });

    const before = await tableCounts(s.databaseUrl);
    const r = await api('/v1/workflows/replay', { body: { workflowId: wf.id, since, until } });
    expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(200);
    const replay = r.body.replay;
    expect(replay).toMatchObject({ workflowId: wf.id, version: wf.version, events: 1000 });

    // Who entered, on which event.
    const entered = (runs: any[]) => new Map(runs.map((x) => [x.contactId, x.triggerMessageId]));
    expect(entered(replay.runs)).toEqual(entered(live));
    // Who did not, and why: the live event trace of every trigger event.
    const reasons = new Map<string, string>();
    for (const n of replay.notEntered) reasons.set(n.messageId, n.reason);
    expect(reasons.size).toBe(1000 - CONTACTS);
    const counts: Record<string, number> = {};
    for (const reason of reasons.values()) counts[reason] = (counts[reason] ?? 0) + 1;
    expect(counts).toEqual({ filtered: 2 * CONTACTS, backdated: CONTACTS / 10, already_entered: CONTACTS - CONTACTS / 10 });
    for (const [messageId, reason] of reasons) {
      const trace = (await api(`/v1/events/${messageId}`)).body.workflows.find((t: any) => t.workflowId === wf.id);
      expect(trace, messageId).toMatchObject({ outcome: 'not_entered', reason });
    }

    // What the steps did: the emails in the outbox, the webhook bodies received.
    const steps = replay.runs.flatMap((x: any) => x.steps);
    const replayMails = steps.filter((x: any) => x.email).map((x: any) => ({ to: x.email.to, subject: x.email.subject, text: x.email.text.trim() }));
    const sortBy = (l: any[]) => [...l].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(replayMails.length).toBeGreaterThan(50);
    expect(sortBy(replayMails)).toEqual(sortBy(await outboxMails()));
    for (const x of steps.filter((y: any) => y.email)) expect(x.email.from).toBe('Team <team@mail.example.com>');
    const replayHooks = steps.filter((x: any) => x.webhook).map((x: any) => comparableBody(x.webhook.body));
    expect(replayHooks.length).toBeGreaterThan(100);
    expect(sortBy(replayHooks)).toEqual(sortBy(received.map(comparableBody)));
    for (const x of steps.filter((y: any) => y.webhook)) expect(x.webhook).toMatchObject({ url: `${base}/hook`, headers: { 'x-replay': 'no' } });
    // Every run went through the wait, the branch and one side of it, in simulated event time.
    for (const run of replay.runs) {
      expect(run.status).toBe('completed');
      expect(run.steps.map((x: any) => x.id)).toEqual(['pause', 'tier', run.steps[1].branch === 'then' ? 'mail' : 'hook']);
      expect(Date.parse(run.steps[0].wakeAt) - Date.parse(run.startedAt)).toBe(1000);
      expect(run.steps[2].at).toBe(run.steps[0].wakeAt);
    }

    // The replay itself sent nothing and stored nothing.
    const sent = received.length + readdirSync(outbox).length;
    expect(await tableCounts(s.databaseUrl)).toEqual(before);
    expect(received.length + readdirSync(outbox).length).toBe(sent);
  });

  it('a definition in the body (not stored, so not yet active); a paused workflow replays as active', async () => {
    const body = { definition: { ...definition('Draft', `${base}/draft`), trigger: { event: 'order.placed', where: { property: 'event.amount', op: 'gte', value: 40 } }, frequency: 'every' }, since, until };
    const before = await tableCounts(s.databaseUrl);
    const r = await api('/v1/workflows/replay', { body });
    expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
    expect(r.body.replay.workflowId).toBeNull();
    // Only the phase-2 orders (amount 40) pass; `every` lets each contact in again.
    expect(r.body.replay.runs).toHaveLength(CONTACTS);
    expect(r.body.replay.runs.every((x: any) => x.triggerMessageId.startsWith('p2-'))).toBe(true);
    expect(await tableCounts(s.databaseUrl)).toEqual(before);
    expect((await api('/v1/workflows?limit=100')).body.workflows.items.map((w: any) => w.name)).not.toContain('Draft');

    const paused = await api('/v1/workflows', { body: { ...definition('Paused', `${base}/paused`), status: 'paused' } });
    const p = await api('/v1/workflows/replay', { body: { workflowId: paused.body.workflow.id, since, until } });
    expect(p.body.replay.runs).toHaveLength(CONTACTS);
  });

  it('waits run in event time: an exitWhen event inside a wait ends the run there', async () => {
    const t = T0 - 3 * HOUR;
    const events = [
      { event: 'trial.started', messageId: 'x-a', identify: { email: 'exit-a@example.com' }, timestamp: t },
      { event: 'trial.converted', messageId: 'x-a2', identify: { email: 'exit-a@example.com' }, timestamp: t + 10 * 60_000 },
      { event: 'trial.started', messageId: 'x-b', identify: { email: 'exit-b@example.com' }, timestamp: t },
      { event: 'trial.converted', messageId: 'x-b2', identify: { email: 'exit-b@example.com' }, timestamp: t + 2 * HOUR },
    ];
    await sendBatches(events);
    await eventually(async () => (await api('/v1/events/x-b2')).body.event?.status === 'processed', { timeoutMs: 20_000 });
    const r = await api('/v1/workflows/replay', {
      body: {
        definition: {
          name: 'Nudge',
          trigger: { event: 'trial.started' },
          exitWhen: { event: 'trial.converted' },
          steps: [{ id: 'day', type: 'wait', duration: '1h' }, { id: 'nudge', type: 'webhook', url: `${base}/nudge` }],
        },
        since,
        until,
      },
    });
    expect(r.status).toBe(200);
    const byContact = Object.fromEntries(r.body.replay.runs.map((x: any) => [x.triggerMessageId, x]));
    expect(byContact['x-a']).toMatchObject({ status: 'exited', exitedAt: new Date(t + 10 * 60_000).toISOString(), steps: [{ id: 'day', status: 'waiting' }] });
    expect(byContact['x-b'].status).toBe('completed');
    expect(byContact['x-b'].steps[1]).toMatchObject({ id: 'nudge', at: new Date(t + HOUR).toISOString(), webhook: { body: { timestamp: new Date(t + HOUR).toISOString() } } });
    expect(received.some((b) => b.data?.stepId === 'nudge')).toBe(false);
  });

  it('a range with more events than a replay reads is refused whole, never replayed in part', async () => {
    const deps = { events: s.store.events, contacts: s.store.contacts, workflows: s.store.workflows, settings: { maxEventAgeMs: 72 * HOUR, emailFrom: 'x@example.com' } };
    const workflow = (await s.store.workflows.list({ workspaceId: (await api('/v1/contacts/search?email=buyer1@example.com')).body.contact.workspaceId, limit: 1 }))[0]!;
    const input = { workspaceId: workflow.workspaceId, workflow, stored: true, since: Date.parse(since), until: Date.parse(until) };
    await expect(replayWorkflow(deps, { ...input, max: 999 })).rejects.toBeInstanceOf(ReplayRangeTooLargeError);
    expect((await replayWorkflow(deps, { ...input, max: 1000 })).events).toBe(1000);
  });

  it('refuses what it cannot replay, with the usual errors', async () => {
    const bad: [unknown, number, string][] = [
      [{ since, until }, 400, 'give exactly one of "workflowId" and "definition"'],
      [{ workflowId: 'wf_nope', since, until }, 404, 'Workflow not found'],
      [{ workflowId: 'wf_nope', until }, 400, '"since" is required: an ISO 8601 date or a Unix timestamp'],
      [{ workflowId: 'wf_nope', since: 'last tuesday', until }, 400, '"since" must be an ISO 8601 date or a Unix timestamp'],
      [{ workflowId: 'wf_nope', since: until, until: since }, 400, '"until" must be after "since"'],
      [{ definition: { name: 'x', trigger: { event: 'a', where: { property: 'contact.x', op: 'nope' } }, steps: [] }, since, until }, 400, ''],
      [{ workflowId: 'wf_nope', since, until, extra: 1 }, 400, 'unknown field "extra"'],
    ];
    for (const [body, status, message] of bad) {
      const r = await api('/v1/workflows/replay', { body });
      expect(r.status, JSON.stringify(body)).toBe(status);
      if (message) expect(r.body.message).toBe(message);
    }
    const seg = await api('/v1/segments', { body: { name: 'any', rule: { property: 'contact.plan', op: 'exists' } } });
    const r = await api('/v1/workflows/replay', { body: { definition: { name: 'x', trigger: { segment: seg.body.segment.id, on: 'enter' }, steps: [] }, since, until } });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('replay takes workflows with an event trigger');
    // Another workspace's workflow is not found.
    const other = await s.createKey('replay-other');
    const mine = (await api('/v1/workflows?limit=1')).body.workflows.items[0];
    expect((await call(`${s.url}/v1/workflows/replay`, { key: other, body: { workflowId: mine.id, since, until } })).status).toBe(404);
  });
});
