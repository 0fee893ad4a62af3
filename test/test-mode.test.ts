/**
 * Test keys and test mode (SPEC.md, "Testing and governance of events"), over real HTTP on
 * a real store (SQLite, or PostgreSQL with TEST_BACKEND=postgres) with a real worker:
 * - a live key never sees what a test key sent, and the reverse, on every read path (events,
 *   one event, contacts, segments and their members, workflows and runs, deliveries, stats,
 *   the catalogue), and one messageId in both modes is two events, not a duplicate;
 * - pk_test_ keys on the Segment-compatible paths land in test mode;
 * - test-mode email goes to the outbox while SMTP_URL points at a real SMTP server (which
 *   receives live mail, and nothing from test mode);
 * - a test-mode webhook step records the signed request and sends it only when the step
 *   says `"test": true` (verified with `standardwebhooks`);
 * - `keys create --test` through the real CLI; the dashboard's Test mode switch.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedMail } from 'mailparser';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintKey } from '../src/cli/context.js';
import { lines, runCli } from '../src/testing/cli.js';
import { createUser, dash, signIn } from '../src/testing/dashboard.js';
import { eventually } from '../src/testing/eventually.js';
import { startMailServer, type MailServer } from '../src/testing/mail-server.js';
import { call } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let s: TestServer;
let smtp: MailServer;
let receiver: Server;
let base: string;
let outbox: string;
/** A test key of the `default` workspace (the live key is s.key). */
let testKey: string;
let mails: ParsedMail[] = [];
const received: Received[] = [];

beforeAll(async () => {
  smtp = await startMailServer();
  mails = smtp.mails;
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  outbox = mkdtempSync(join(tmpdir(), 'test-mode-outbox-'));
  s = await startTestServer({
    backgroundWorker: true,
    env: {
      SMTP_URL: smtp.url,
      EMAIL_FROM: 'Team <team@mail.example.com>',
      OUTBOX_DIR: outbox,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_SCHEDULE: '0,0,0',
      RATE_LIMIT_SINGLE_PER_MIN: '100000',
      RATE_LIMIT_API_PER_MIN: '100000',
    },
  });
  testKey = (await mintKey(s.store, 'default', 'test mode', { test: true })).secret;
});
afterAll(async () => {
  await s?.close();
  await smtp?.close();
  receiver?.closeAllConnections();
  await new Promise((r) => receiver?.close(r));
  rmSync(outbox, { recursive: true, force: true });
});

const as = (key: string) => (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${s.url}${path}`, { key, ...opts });
const live = (path: string, opts: Parameters<typeof call>[1] = {}) => as(s.key)(path, opts);
const test = (path: string, opts: Parameters<typeof call>[1] = {}) => as(testKey)(path, opts);
const flushActivity = () => (s.server as unknown as { flushActivity: () => Promise<void> }).flushActivity();

async function processed(api: typeof live, messageId: string): Promise<any> {
  return eventually(async () => {
    const e = (await api(`/v1/events/${encodeURIComponent(messageId)}`)).body?.event;
    return e?.status === 'processed' && e;
  }, { timeoutMs: 10_000 });
}

async function finishedRun(api: typeof live, messageId: string, wfId: string): Promise<any> {
  const t = await eventually(async () => (await api(`/v1/events/${encodeURIComponent(messageId)}`)).body.workflows?.find((w: any) => w.workflowId === wfId), { timeoutMs: 10_000 });
  expect(t.outcome).toBe('started');
  return eventually(async () => {
    const r = (await api(`/v1/runs/${t.runId}`)).body.run;
    return (r.status === 'completed' || r.status === 'failed') && r;
  }, { timeoutMs: 15_000 });
}

describe('test keys', () => {
  it('are sk_test_ keys of the live workspace that authenticate into test mode', async () => {
    expect(testKey).toMatch(/^sk_test_[A-Za-z0-9_-]{32}$/);
    const check = await test('/v1/api-keys/check');
    expect(check.status).toBe(200);
    expect(check.body.workspace.name).toBe('default');
    expect(check.body.mode).toBe('test');
    const liveCheck = await live('/v1/api-keys/check');
    expect(liveCheck.body.mode).toBeUndefined();
    expect(check.body.workspace.id).not.toBe(liveCheck.body.workspace.id);
    // Each mode has its own rate-limit bucket: test traffic never uses up the live limit.
    const a = Number((await live('/v1/contacts')).headers.get('x-ratelimit-remaining'));
    for (let i = 0; i < 3; i++) await test('/v1/contacts');
    // Shared, the live bucket would be 4 lower; apart, 1 (or fresh, if the window just reset).
    expect(Number((await live('/v1/contacts')).headers.get('x-ratelimit-remaining'))).toBeGreaterThan(a - 4);
  });
});

describe('test-mode isolation on every read path', () => {
  it('events, one event, contacts, segments and members, workflow runs, stats and the catalogue', async () => {
    const t0 = Date.now();
    // Segments and workflows of each mode, defined before the events.
    const liveSeg = (await live('/v1/segments', { body: { name: 'Signed up', rule: { performed: 'iso.signup' } } })).body.segment;
    const testSeg = (await test('/v1/segments', { body: { name: 'Signed up', rule: { performed: 'iso.signup' } } })).body.segment;
    const liveWf = (await live('/v1/workflows', { body: { name: 'Tag', trigger: { event: 'iso.signup' }, steps: [{ id: 't', type: 'update_contact', properties: { tagged: 'live' } }] } })).body.workflow;
    const testWf = (await test('/v1/workflows', { body: { name: 'Tag', trigger: { event: 'iso.signup' }, steps: [{ id: 't', type: 'update_contact', properties: { tagged: 'test' } }] } })).body.workflow;
    expect([liveSeg?.id, testSeg?.id, liveWf?.id, testWf?.id].every(Boolean)).toBe(true);

    // The same messageId in both modes: two events, neither a duplicate of the other.
    const a = await live('/v1/events', { body: { event: 'iso.signup', messageId: 'iso-1', identify: { email: 'live-iso@example.com' }, properties: { live_only: 1 } } });
    const b = await test('/v1/events', { body: { event: 'iso.signup', messageId: 'iso-1', identify: { email: 'test-iso@example.com' }, properties: { test_only: 'x' } } });
    expect([a.status, a.body.duplicate === true, b.status, b.body.duplicate === true]).toEqual([200, false, 200, false]);
    // Within a mode, dedup works as ever.
    expect((await test('/v1/events', { body: { event: 'iso.signup', messageId: 'iso-1', identify: { email: 'test-iso@example.com' } } })).body.duplicate).toBe(true);
    const batch = await test('/v1/events/batch', { body: { events: [{ event: 'iso.batch', identify: { email: 'test-iso@example.com' } }] } });
    expect(batch.status).toBe(200);

    const le = await processed(live, 'iso-1');
    const te = await processed(test, 'iso-1');
    expect(le.email).toBe('live-iso@example.com');
    expect(te.email).toBe('test-iso@example.com');

    // GET /v1/events
    const liveList = (await live('/v1/events?limit=1000')).body.events.items as any[];
    const testList = (await test('/v1/events?limit=1000')).body.events.items as any[];
    expect(liveList.map((e) => e.email)).not.toContain('test-iso@example.com');
    expect(testList.map((e) => e.email)).not.toContain('live-iso@example.com');
    expect(testList.map((e) => e.event).sort()).toEqual(['iso.batch', 'iso.signup']);
    expect((await live('/v1/events?email=test-iso@example.com')).body.events.items).toEqual([]);

    // Contacts: list, search, by id, their segments.
    const liveContacts = (await live('/v1/contacts?limit=100')).body.contacts.items as any[];
    const testContacts = (await test('/v1/contacts?limit=100')).body.contacts.items as any[];
    expect(liveContacts.map((c) => c.properties.email)).not.toContain('test-iso@example.com');
    expect(testContacts.map((c) => c.properties.email)).toEqual(['test-iso@example.com']);
    expect((await live('/v1/contacts/search?email=test-iso@example.com')).body).toEqual({ contact: null });
    expect((await test('/v1/contacts/search?email=live-iso@example.com')).body).toEqual({ contact: null });
    expect((await live(`/v1/contacts/${te.contactId}`)).status).toBe(404);
    expect((await test(`/v1/contacts/${le.contactId}`)).status).toBe(404);
    expect((await test('/v1/contacts/properties')).body.properties.map((p: any) => p.name)).not.toContain('tagged_live');

    // Segments: each mode's members only, and another mode's segment is a 404.
    const members = async (api: typeof live, id: string) =>
      eventually(async () => {
        const items = (await api(`/v1/segments/${id}/contacts`)).body.contacts?.items as any[] | undefined;
        return items && items.length > 0 && items.map((c) => c.properties.email);
      }, { timeoutMs: 10_000 });
    expect(await members(live, liveSeg.id)).toEqual(['live-iso@example.com']);
    expect(await members(test, testSeg.id)).toEqual(['test-iso@example.com']);
    expect((await live(`/v1/segments/${testSeg.id}`)).status).toBe(404);
    expect((await test(`/v1/segments/${liveSeg.id}/contacts`)).status).toBe(404);
    expect((await test(`/v1/contacts/${te.contactId}/segments`)).body.segments.map((x: any) => x.id)).toEqual([testSeg.id]);
    expect((await test('/v1/segments')).body.segments.items.map((x: any) => x.id)).toEqual([testSeg.id]);

    // Workflows and runs: each mode's event started its own mode's workflow only.
    const liveRun = await finishedRun(live, 'iso-1', liveWf.id);
    const testRun = await finishedRun(test, 'iso-1', testWf.id);
    expect(liveRun.contactId).toBe(le.contactId);
    expect(testRun.contactId).toBe(te.contactId);
    expect((await live(`/v1/events/iso-1`)).body.workflows.map((w: any) => w.workflowId)).not.toContain(testWf.id);
    expect((await test(`/v1/events/iso-1`)).body.workflows.map((w: any) => w.workflowId)).toEqual([testWf.id]);
    expect((await live(`/v1/workflows/${testWf.id}/runs`)).status).toBe(404);
    expect((await live(`/v1/runs/${testRun.id}`)).status).toBe(404);
    expect((await test(`/v1/runs/${liveRun.id}`)).status).toBe(404);
    expect((await live(`/v1/workflows/${liveWf.id}/runs`)).body.runs.items.map((r: any) => r.contactId)).toEqual([le.contactId]);
    expect((await test('/v1/workflows')).body.workflows.items.map((w: any) => w.id)).toEqual([testWf.id]);
    expect((await test(`/v1/contacts/${te.contactId}`)).body.contact.properties.tagged).toBe('test');
    expect((await live(`/v1/contacts/${le.contactId}`)).body.contact.properties.tagged).toBe('live');

    // Stats: each mode counts its own (test: 2 accepted and 1 duplicate; live: its 1 here).
    await flushActivity();
    const sum = async (api: typeof live, k: 'accepted' | 'duplicate', event: string) =>
      ((await api(`/v1/stats/events?event=${event}&since=${t0 - 120_000}`)).body.series as any[]).reduce((n, p) => n + p[k], 0);
    expect(await sum(test, 'accepted', 'iso.signup')).toBe(1);
    expect(await sum(test, 'duplicate', 'iso.signup')).toBe(1);
    expect(await sum(live, 'accepted', 'iso.signup')).toBe(1);
    expect(await sum(live, 'duplicate', 'iso.signup')).toBe(0);
    expect(await sum(live, 'accepted', 'iso.batch')).toBe(0);

    // The catalogue: property paths and names of each mode only.
    const catalog = async (api: typeof live) =>
      eventually(async () => {
        const evs = (await api('/v1/catalog/events')).body.events as any[];
        const signup = evs.find((e) => e.name === 'iso.signup');
        return signup && evs;
      }, { timeoutMs: 10_000 });
    const liveCat = await catalog(live);
    const testCat = await eventually(async () => {
      const evs = await catalog(test);
      return evs.some((e: any) => e.name === 'iso.batch') && evs;
    }, { timeoutMs: 10_000 });
    expect(liveCat.map((e: any) => e.name)).not.toContain('iso.batch');
    const paths = (evs: any[]) => evs.find((e) => e.name === 'iso.signup').properties.map((p: any) => p.path);
    expect(paths(liveCat)).toEqual(['live_only']);
    expect(paths(testCat)).toEqual(['test_only']);
  });

  it('pk_test_ keys send to test mode on the Segment-compatible paths and our endpoints, and read nothing', async () => {
    const pk = (await mintKey(s.store, 'default', 'browser', { publishable: true, test: true })).secret;
    expect(pk).toMatch(/^pk_test_/);
    const basic = { authorization: `Basic ${Buffer.from(`${pk}:`).toString('base64')}` };
    const r = await call(`${s.url}/v1/track`, { headers: basic, body: { userId: 'seg-test@example.com', event: 'Viewed Page', messageId: 'seg-test-1' } });
    expect(r.status).toBe(200);
    expect((await call(`${s.url}/v1/events`, { key: pk, body: { event: 'pk.direct', messageId: 'pk-direct-1', identify: { email: 'seg-test@example.com' } } })).status).toBe(200);
    expect((await call(`${s.url}/v1/events`, { key: pk })).status).toBe(401);
    expect((await processed(test, 'seg-test-1')).event).toBe('Viewed_Page');
    await processed(test, 'pk-direct-1');
    expect((await live('/v1/events/seg-test-1')).status).toBe(404);
    expect((await live('/v1/events/pk-direct-1')).status).toBe(404);
    expect((await live('/v1/contacts/search?email=seg-test@example.com')).body.contact).toBeNull();
  });

  it('a test key of another workspace sees nothing of this one\'s test mode', async () => {
    const other = (await mintKey(s.store, 'other-ws', 'test', { test: true })).secret;
    expect((await call(`${s.url}/v1/events/iso-1`, { key: other })).status).toBe(404);
    expect((await call(`${s.url}/v1/contacts/search?email=test-iso@example.com`, { key: other })).body.contact).toBeNull();
  });
});

describe('test-mode side effects', () => {
  it('email goes to the outbox, never to SMTP (which live mail reaches)', async () => {
    const def = { name: 'Welcome', frequency: 'every', trigger: { event: 'mail.signup' }, steps: [{ id: 'hello', type: 'email', subject: 'Hello {{ contact.email }}', text: 'hi' }] };
    const liveWf = (await live('/v1/workflows', { body: def })).body.workflow;
    const testWf = (await test('/v1/workflows', { body: def })).body.workflow;
    const lm = (await live('/v1/events', { body: { event: 'mail.signup', identify: { email: 'live-mail@example.com' } } })).body.messageId;
    const tm = (await test('/v1/events', { body: { event: 'mail.signup', identify: { email: 'test-mail@example.com' } } })).body.messageId;
    const liveRun = await finishedRun(live, lm, liveWf.id);
    const testRun = await finishedRun(test, tm, testWf.id);
    expect(liveRun.steps[0]).toMatchObject({ id: 'hello', status: 'completed' });
    expect(testRun.steps[0]).toMatchObject({ id: 'hello', status: 'completed' });

    // Live: over SMTP, not in the outbox. Test: in the outbox, not over SMTP.
    const liveMail = await eventually(() => mails.find((m) => m.subject === 'Hello live-mail@example.com'), { timeoutMs: 10_000 });
    expect(liveMail.messageId).toBe(`<${liveRun.id}.hello@mail.example.com>`);
    const files = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
    const texts = files.map((f) => readFileSync(join(outbox, f), 'utf8'));
    const testFile = texts.find((t) => t.includes('Subject: Hello test-mail@example.com'));
    expect(testFile).toBeDefined();
    expect(testFile).toContain(`<${testRun.id}.hello@mail.example.com>`);
    expect(texts.some((t) => t.includes('live-mail@example.com'))).toBe(false);
    expect(mails.some((m) => m.subject === 'Hello test-mail@example.com')).toBe(false);
  });

  it('a webhook step records the signed request and sends only to a step marked "test": true', async () => {
    const secret = (await test('/v1/settings/webhook-secret')).body.secret as string;
    const liveSecret = (await live('/v1/settings/webhook-secret')).body.secret as string;
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(liveSecret);
    const wf = (
      await test('/v1/workflows', {
        body: {
          name: 'Hooks',
          trigger: { event: 'hook.signup' },
          steps: [
            { id: 'prod', type: 'webhook', url: `${base}/prod`, headers: { 'x-env': 'prod' } },
            // Inside a branch: the marker is found wherever the step is.
            { id: 'b', type: 'branch', if: { property: 'contact.email', op: 'exists' }, then: [{ id: 'sandbox', type: 'webhook', url: `${base}/sandbox`, test: true }] },
          ],
        },
      })
    ).body.workflow;
    expect(wf.steps[1].then[0].test).toBe(true);
    const m = (await test('/v1/events', { body: { event: 'hook.signup', identify: { email: 'hook@example.com' } } })).body.messageId;
    const run = await finishedRun(test, m, wf.id);
    expect(run.status).toBe('completed');
    expect(run.steps.filter((x: any) => x.id === 'prod' || x.id === 'sandbox').map((x: any) => x.status)).toEqual(['completed', 'completed']);

    // The marked destination got the request, signed with test mode's secret; the other nothing.
    const got = await eventually(() => received.find((r) => r.path === '/sandbox'), { timeoutMs: 10_000 });
    expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toMatchObject({ type: 'workflow.webhook', data: { stepId: 'sandbox' } });
    expect(received.filter((r) => r.path === '/prod')).toEqual([]);

    const deliveries = (await test(`/v1/webhook-deliveries?workflowId=${wf.id}`)).body.deliveries.items as any[];
    const prod = deliveries.find((d) => d.stepId === 'prod');
    const sandbox = deliveries.find((d) => d.stepId === 'sandbox');
    // Not sent: the exact request recorded, signed and verifiable as a receiver would.
    expect(prod.attempts).toHaveLength(1);
    const rec = prod.attempts[0];
    expect(rec).toMatchObject({ sent: false, statusCode: null });
    expect(rec.request.url).toBe(`${base}/prod`);
    expect(rec.request.headers).toMatchObject({ 'webhook-id': prod.id, 'x-env': 'prod', 'content-type': 'application/json' });
    expect(rec.request.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(new Webhook(secret).verify(rec.request.body, rec.request.headers)).toMatchObject({ type: 'workflow.webhook', data: { stepId: 'prod', runId: run.id } });
    // Sent: recorded as sent, the very request the receiver got.
    expect(sandbox.attempts[0]).toMatchObject({ sent: true, statusCode: 200 });
    expect(sandbox.attempts[0].request.body).toBe(got.body);
    expect(sandbox.attempts[0].request.headers['webhook-signature']).toBe(got.headers['webhook-signature']);

    // Live sees none of test mode's deliveries.
    expect((await live(`/v1/webhook-deliveries/${prod.id}`)).status).toBe(404);
    expect(((await live('/v1/webhook-deliveries')).body.deliveries.items as any[]).map((d) => d.id)).not.toContain(prod.id);
  });

  it('a live webhook step sends as before, with no recorded request', async () => {
    const wf = (await live('/v1/workflows', { body: { name: 'Live hook', trigger: { event: 'hook.live' }, steps: [{ id: 'h', type: 'webhook', url: `${base}/live` }] } })).body.workflow;
    const m = (await live('/v1/events', { body: { event: 'hook.live', identify: { email: 'hook-live@example.com' } } })).body.messageId;
    await finishedRun(live, m, wf.id);
    await eventually(() => received.find((r) => r.path === '/live'), { timeoutMs: 10_000 });
    const d = ((await live(`/v1/webhook-deliveries?workflowId=${wf.id}`)).body.deliveries.items as any[])[0];
    expect(d.attempts[0].statusCode).toBe(200);
    expect(d.attempts[0].request).toBeUndefined();
    expect(d.attempts[0].sent).toBeUndefined();
  });

  it('"test" on a webhook step must be a boolean', async () => {
    const r = await test('/v1/workflows', { body: { name: 'x', trigger: { event: 'a' }, steps: [{ id: 'h', type: 'webhook', url: `${base}/x`, test: 'yes' }] } });
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('steps[0].test');
  });
});

describe('keys create --test (CLI)', () => {
  it('prints sk_test_ / pk_test_ keys of the workspace, listed with their mode, working in test mode, revocable', async () => {
    const env = { DATABASE_URL: s.databaseUrl };
    const made = await runCli(['keys', 'create', '--workspace', 'default', '--name', 'ci', '--test'], { env });
    expect(made.status, made.stderr).toBe(0);
    const secret = lines(made.stdout).at(-1)!;
    expect(secret).toMatch(/^sk_test_[A-Za-z0-9_-]{32}$/);
    expect(made.stderr).toMatch(/Created test key key_[0-9a-f]+ "ci" for workspace "default" \(ws_[0-9a-f]+\) in test mode/);
    const pub = await runCli(['keys', 'create', '--workspace', 'default', '--name', 'web', '--test', '--publishable'], { env });
    expect(lines(pub.stdout).at(-1)!).toMatch(/^pk_test_/);

    const listed = JSON.parse((await runCli(['keys', 'list', '--json'], { env })).stdout) as Record<string, unknown>[];
    const ci = listed.find((k) => k.name === 'ci')!;
    const liveKey = listed.find((k) => k.name === 'test' && k.workspace === 'default')!;
    expect(ci).toMatchObject({ workspace: 'default', kind: 'secret', mode: 'test', liveWorkspaceId: liveKey.workspaceId, prefix: secret.slice(0, 12) });
    expect(ci.workspaceId).not.toBe(liveKey.workspaceId);
    expect(liveKey.mode).toBeUndefined();
    expect(listed.find((k) => k.name === 'web')).toMatchObject({ kind: 'publishable', mode: 'test' });
    const table = lines((await runCli(['keys', 'list'], { env })).stdout);
    expect(table.find((l) => l.includes('\tci\t'))!.split('\t')[1]).toBe('default (test)');

    // The CLI's key sees test mode (what the other test key sent), not live.
    expect((await call(`${s.url}/v1/contacts/search?email=test-iso@example.com`, { key: secret })).body.contact?.properties.email).toBe('test-iso@example.com');
    expect((await call(`${s.url}/v1/contacts/search?email=live-iso@example.com`, { key: secret })).body.contact).toBeNull();
    const revoked = await runCli(['keys', 'revoke', secret], { env });
    expect(revoked.status).toBe(0);
    await eventually(async () => (await call(`${s.url}/v1/contacts`, { key: secret })).status === 401, { timeoutMs: 10_000 });
  });
});

describe('dashboard Test mode switch', () => {
  it('is per session, CSRF-checked, and shows test mode\'s data on every page while on', async () => {
    const user = await createUser(s.store, ['default']);
    const session = await signIn(s.url, user.email);
    expect(session.body.testMode).toBe(false);
    const emails = async () => ((await dash(s.url, session, '/contacts?limit=100')).body.contacts.items as any[]).map((c) => c.properties.email);
    expect(await emails()).toContain('live-iso@example.com');
    expect(await emails()).not.toContain('test-iso@example.com');

    // CSRF: no token, no switch.
    const forged = await call(`${s.url}/dashboard/api/test-mode`, { body: { enabled: true }, headers: { cookie: session.cookie } });
    expect(forged.status).toBe(403);
    expect((await dash(s.url, session, '/test-mode', { body: { enabled: 'yes' } })).status).toBe(400);

    const on = await dash(s.url, session, '/test-mode', { body: { enabled: true } });
    expect(on.status).toBe(200);
    expect(on.body.testMode).toBe(true);
    expect((await dash(s.url, session, '/session')).body.testMode).toBe(true);
    expect(await emails()).toContain('test-iso@example.com');
    expect(await emails()).not.toContain('live-iso@example.com');
    expect(((await dash(s.url, session, '/events?limit=100')).body.events.items as any[]).map((e) => e.email)).not.toContain('live-iso@example.com');
    expect((await dash(s.url, session, '/events/iso-1')).body.event.email).toBe('test-iso@example.com');
    const keys = (await dash(s.url, session, '/keys')).body.keys as any[];
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.prefix.startsWith('sk_test_') || k.prefix.startsWith('pk_test_'))).toBe(true);
    // A key made in test mode is a test key.
    const made = await dash(s.url, session, '/keys', { body: { name: 'from dashboard' } });
    expect(made.status).toBe(201);
    expect(made.body.secret).toMatch(/^sk_test_/);
    expect((await call(`${s.url}/v1/events/iso-1`, { key: made.body.secret })).body.event.email).toBe('test-iso@example.com');
    // Test mode's mail is the outbox even with SMTP_URL set.
    expect((await dash(s.url, session, '/settings/mail')).body.mail).toMatchObject({ transport: 'outbox' });

    // Another session of the same user stays live.
    const other = await signIn(s.url, user.email);
    expect(other.body.testMode).toBe(false);
    expect(((await dash(s.url, other, '/contacts?limit=100')).body.contacts.items as any[]).map((c) => c.properties.email)).not.toContain('test-iso@example.com');

    const off = await dash(s.url, session, '/test-mode', { body: { enabled: false } });
    expect(off.body.testMode).toBe(false);
    expect(await emails()).not.toContain('test-iso@example.com');
    expect((await dash(s.url, session, '/events/iso-1')).body.event.email).toBe('live-iso@example.com');
  });
});
