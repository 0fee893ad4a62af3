/**
 * The dashboard's Settings → API additions: the webhook signing secret (the same service as
 * GET / POST /v1/settings/webhook-secret[/rotate]), the mail settings (whether SMTP_URL is
 * set, never its value) and the workspace's messages in the outbox, newest first.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, dash, signIn, type Session } from '../src/testing/dashboard.js';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let outbox: string;
let session: Session;

beforeAll(async () => {
  outbox = mkdtempSync(join(tmpdir(), 'dash-outbox-'));
  s = await startTestServer({ env: { OUTBOX_DIR: outbox, EMAIL_FROM: 'Acme <hello@acme.example>' } });
  session = await signIn(s.url, (await createUser(s.store, ['default'])).email);
});
afterAll(async () => {
  await s?.close();
  rmSync(outbox, { recursive: true, force: true });
});

const pub = (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${s.url}${path}`, { key: s.key, ...opts });

describe('dashboard settings', () => {
  it('webhook signing secret: the public one; Rotate needs the CSRF token and is the public rotation', async () => {
    const before = (await pub('/v1/settings/webhook-secret')).body.secret;
    expect(before).toMatch(/^whsec_/);
    const shown = await dash(s.url, session, '/settings/webhook-secret');
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual({ secret: before });

    expect((await call(`${s.url}/dashboard/api/settings/webhook-secret/rotate`, { body: {}, headers: { cookie: session.cookie } })).status).toBe(403);
    expect((await pub('/v1/settings/webhook-secret')).body.secret).toBe(before);

    const rotated = await dash(s.url, session, '/settings/webhook-secret/rotate', { body: {} });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(before);
    expect(Date.parse(rotated.body.previousValidUntil) - Date.now()).toBeGreaterThan(23 * 3600_000);
    expect((await pub('/v1/settings/webhook-secret')).body.secret).toBe(rotated.body.secret);
    expect((await dash(s.url, session, '/settings/webhook-secret')).body.secret).toBe(rotated.body.secret);
  });

  it('mail settings: outbox without SMTP_URL, EMAIL_FROM as configured', async () => {
    const r = await dash(s.url, session, '/settings/mail');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ mail: { transport: 'outbox', smtpConfigured: false, from: 'Acme <hello@acme.example>', outboxDir: expect.stringContaining('dash-outbox-') } });
  });

  it("the outbox: this workspace's emails, newest first, one as text; other files and names are not served", async () => {
    expect((await dash(s.url, session, '/outbox')).body.outbox).toMatchObject({ items: [], hasMore: false });
    const wf = await pub('/v1/workflows', {
      body: { name: 'Hello', frequency: 'every', trigger: { event: 'mail.me' }, steps: [{ id: 'hi', type: 'email', subject: 'Hello {{ event.properties.n }}', text: 'Body {{ event.properties.n }}' }] },
    });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);
    for (const n of [1, 2, 3]) {
      expect((await pub('/v1/events', { body: ev({ event: 'mail.me', identify: { email: `m${n}@example.com` }, properties: { n } }) })).status).toBe(200);
      await s.drain();
    }
    expect(readdirSync(outbox).filter((f) => f.endsWith('.eml'))).toHaveLength(3);
    // Not the transport's files: never listed, never read.
    writeFileSync(join(outbox, 'notes.txt'), 'private');
    writeFileSync(join(outbox, '20990101T000000000Z-0123456789abcdef0123456789abcdef.eml'), 'Message-ID: <not-a-run@x>\r\nSubject: stray\r\n\r\nhi');

    const list = await dash(s.url, session, '/outbox');
    expect(list.status).toBe(200);
    const items = list.body.outbox.items;
    expect(items.map((i: any) => i.subject)).toEqual(['Hello 3', 'Hello 2', 'Hello 1']);
    expect(items[0]).toMatchObject({ to: 'm3@example.com', from: 'Acme <hello@acme.example>', messageId: expect.stringMatching(/^<run_/), size: expect.any(Number) });
    expect(Date.parse(items[0].writtenAt)).toBeGreaterThan(0);
    expect(list.body.outbox).toMatchObject({ hasMore: false, total: 4 });
    const two = await dash(s.url, session, '/outbox?limit=2');
    expect(two.body.outbox.items.map((i: any) => i.subject)).toEqual(['Hello 3', 'Hello 2']);
    expect(two.body.outbox.hasMore).toBe(true);
    expect((await dash(s.url, session, '/outbox?limit=0')).status).toBe(400);
    expect((await dash(s.url, session, '/outbox?nope=1')).status).toBe(400);

    const one = await dash(s.url, session, `/outbox/${items[0].name}`);
    expect(one.status).toBe(200);
    expect(one.body.message).toMatchObject({ name: items[0].name, subject: 'Hello 3', truncated: false });
    expect(one.body.message.text).toContain('Body 3');
    for (const name of ['notes.txt', '20990101T000000000Z-0123456789abcdef0123456789abcdef.eml', '..%2F..%2Fpackage.json', 'nope.eml']) {
      expect((await dash(s.url, session, `/outbox/${name}`)).status, name).toBe(404);
    }
  });
});

describe('dashboard mail settings with SMTP_URL', () => {
  it('says SMTP is used, never the URL or its password', async () => {
    const smtp = await startTestServer({ env: { SMTP_URL: 'smtp://mailer:hunter2-secret@127.0.0.1:2525' } });
    try {
      const r = await dash(smtp.url, await signIn(smtp.url, (await createUser(smtp.store, ['default'])).email), '/settings/mail');
      expect(r.status).toBe(200);
      expect(r.body.mail).toEqual({ transport: 'smtp', smtpConfigured: true, from: expect.any(String) });
      expect(r.text).not.toContain('hunter2');
      expect(r.text).not.toContain('mailer');
    } finally {
      await smtp.close();
    }
  });
});
