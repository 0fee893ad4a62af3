/**
 * The email step end to end: a real SMTP server (smtp-server) receives the mail, parsed with
 * mailparser: subject and body rendered from Liquid, List-Unsubscribe headers (RFC 8058)
 * present, a stable Message-ID; the one-click POST unsubscribes the contact and the next
 * run's email step is `skipped`. Then the outbox: without SMTP_URL, a `.eml` file.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing/eventually.js';
import { startMailServer, type MailServer } from '../src/testing/mail-server.js';
import { call } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let smtp: MailServer;
let mails: ParsedMail[] = [];
let s: TestServer;

const WELCOME = {
  name: 'Welcome',
  frequency: 'every',
  trigger: { event: 'user.signup' },
  steps: [{ id: 'welcome', type: 'email', subject: 'Welcome, {{ contact.firstName }}!', html: '<p>Your plan: {{ event.properties.plan }}</p>', text: 'Your plan: {{ event.properties.plan }}' }],
};

beforeAll(async () => {
  smtp = await startMailServer();
  mails = smtp.mails;
  const port = smtp.port;
  s = await startTestServer({ backgroundWorker: true, env: { SMTP_URL: `smtp://127.0.0.1:${port}`, EMAIL_FROM: 'Team <team@mail.example.com>', RATE_LIMIT_SINGLE_PER_MIN: '100000' } });
});
afterAll(async () => {
  await s?.close();
  await smtp?.close();
});

const api = (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${s.url}${path}`, { key: s.key, ...opts });

async function runOf(messageId: string, wfId: string): Promise<any> {
  const t = await eventually(async () => (await api(`/v1/events/${messageId}`)).body.workflows?.find((w: any) => w.workflowId === wfId), { timeoutMs: 10_000 });
  return eventually(async () => {
    const r = (await api(`/v1/runs/${t.runId}`)).body.run;
    return (r.status === 'completed' || r.status === 'failed') && r;
  }, { timeoutMs: 10_000 });
}

describe('email step over SMTP', () => {
  it('renders, sends with List-Unsubscribe and a stable Message-ID; one-click unsubscribes; the next run is skipped', async () => {
    const wf = (await api('/v1/workflows', { body: WELCOME })).body.workflow;
    const first = await api('/v1/events', { body: { event: 'user.signup', identify: { email: 'ann@example.com', traits: { firstName: 'Ann' } }, properties: { plan: 'premium' } } });
    const run = await runOf(first.body.messageId, wf.id);
    expect(run.steps[0]).toMatchObject({ id: 'welcome', status: 'completed' });
    const mail = await eventually(() => mails[0], { timeoutMs: 10_000 });
    expect(mail.subject).toBe('Welcome, Ann!');
    expect(mail.html).toContain('<p>Your plan: premium</p>');
    expect(mail.text?.trim()).toBe('Your plan: premium');
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').toBe('ann@example.com');
    expect(mail.messageId).toBe(`<${run.id}.welcome@mail.example.com>`);
    const listUnsub = mail.headerLines.find((h) => h.key === 'list-unsubscribe')!.line;
    expect(mail.headerLines.find((h) => h.key === 'list-unsubscribe-post')!.line).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    const url = /<([^>]+)>/.exec(listUnsub)![1]!;
    expect(url.startsWith(`${s.config.publicUrl}/unsubscribe/`)).toBe(true);

    // RFC 8058 one-click: a POST of List-Unsubscribe=One-Click, no page.
    const path = new URL(url).pathname;
    const post = await fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(post.status).toBeLessThan(300);
    const contact = (await api(`/v1/contacts/${run.contactId}`)).body.contact;
    expect(contact.properties.status).toBe('UNSUBSCRIBED');

    const second = await api('/v1/events', { body: { event: 'user.signup', identify: { email: 'ann@example.com' }, properties: { plan: 'pro' } } });
    const run2 = await runOf(second.body.messageId, wf.id);
    expect(run2.steps[0]).toMatchObject({ id: 'welcome', status: 'skipped' });
    expect(run2.status).toBe('completed');
    expect(mails).toHaveLength(1);
  });

  it('an undefined variable fails the step, naming it; nothing is sent', async () => {
    const wf = (await api('/v1/workflows', { body: { ...WELCOME, name: 'Strict', trigger: { event: 'strict.signup' }, steps: [{ id: 'e', type: 'email', subject: 'Hi {{ contact.nickname }}', text: 'x' }] } })).body.workflow;
    const before = mails.length;
    const r = await api('/v1/events', { body: { event: 'strict.signup', identify: { email: 'bob@example.com' } } });
    const run = await runOf(r.body.messageId, wf.id);
    expect(run.status).toBe('failed');
    expect(run.steps[0]).toMatchObject({ status: 'failed', error: expect.stringContaining('contact.nickname') });
    expect(mails).toHaveLength(before);
  });
});

describe('email step without SMTP_URL', () => {
  it('writes the message as a .eml file to the outbox', async () => {
    const outbox = mkdtempSync(join(tmpdir(), 'outbox-'));
    const o = await startTestServer({ backgroundWorker: true, env: { OUTBOX_DIR: outbox } });
    try {
      const wf = (await call(`${o.url}/v1/workflows`, { key: o.key, body: WELCOME })).body.workflow;
      await call(`${o.url}/v1/events`, { key: o.key, body: { event: 'user.signup', identify: { email: 'cy@example.com', traits: { firstName: 'Cy' } }, properties: { plan: 'basic' } } });
      const file = await eventually(() => readdirSync(outbox).find((f) => f.endsWith('.eml')), { timeoutMs: 10_000 });
      const mail = await simpleParser(readFileSync(join(outbox, file)));
      expect(mail.subject).toBe('Welcome, Cy!');
      expect(wf.id).toMatch(/^wf_/);
    } finally {
      await o.close();
      rmSync(outbox, { recursive: true, force: true });
    }
  });
});
