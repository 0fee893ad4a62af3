/**
 * Mail through a real SMTP server (smtp-server on a free port, AUTH required) parsed with
 * mailparser, and the outbox's .eml files parsed the same way.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { createMailTransport, listUnsubscribeHeaders, messageIdDomain, messageIdFor, type EmailMessage, type MailTransport } from './email.js';
import { renderTemplate } from './templates.js';
import { startMailServer, type MailServer } from '../../testing/mail-server.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function smtpServer(): Promise<MailServer> {
  const server = await startMailServer({ auth: { user: 'mailer', pass: 'p@ss:word' } });
  cleanups.push(() => server.close());
  return server;
}

/** mailparser files List-* headers under `list`: read the raw line. */
function headerLine(m: ParsedMail, key: string): string | undefined {
  return m.headerLines.find((h) => h.key === key)?.line;
}

function track(t: MailTransport): MailTransport {
  cleanups.push(() => t.close());
  return t;
}

async function message(over: Partial<EmailMessage> = {}): Promise<EmailMessage> {
  const vars = { contact: { id: 'ct_1', firstName: 'Ann & Co' }, event: { properties: { plan: 'pro' } }, workflow: { id: 'wf_1', name: 'Welcome' } };
  return {
    from: 'SMASHSEND <no-reply@mail.example.com>',
    to: 'ann@example.com',
    subject: await renderTemplate('Welcome, {{ contact.firstName }}', vars, 'text'),
    html: await renderTemplate('<p>Hi {{ contact.firstName }}, you are on {{ event.properties.plan }}</p>', vars, 'html'),
    text: await renderTemplate('Hi {{ contact.firstName }}', vars, 'text'),
    messageId: messageIdFor('run_abc', 'welcome', 'mail.example.com'),
    headers: listUnsubscribeHeaders('https://hooks.example.com/', 'tok.en'),
    ...over,
  };
}

describe('SMTP transport', () => {
  it('delivers over SMTP with AUTH from the URL: subject and body rendered, Message-ID as given, List-Unsubscribe headers', async () => {
    const smtp = await smtpServer();
    const t = track(createMailTransport({ smtpUrl: `smtp://mailer:${encodeURIComponent('p@ss:word')}@127.0.0.1:${smtp.port}`, outboxDir: '/nonexistent', timeoutMs: 5000 }));
    expect(t.kind).toBe('smtp');
    const msg = await message();
    const r = await t.send(msg);
    expect(r.messageId).toBe('<run_abc.welcome@mail.example.com>');
    expect(r.response).toMatch(/^250/);
    expect(smtp.auths).toEqual([{ user: 'mailer', pass: 'p@ss:word' }]);
    const got = smtp.mails[0]!;
    expect(got.subject).toBe('Welcome, Ann & Co');
    expect(got.html).toContain('<p>Hi Ann &amp; Co, you are on pro</p>');
    expect(got.text?.trim()).toBe('Hi Ann & Co');
    expect(got.messageId).toBe('<run_abc.welcome@mail.example.com>');
    expect(headerLine(got, 'list-unsubscribe')).toBe('List-Unsubscribe: <https://hooks.example.com/unsubscribe/tok.en>');
    expect(headerLine(got, 'list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(got.to && !Array.isArray(got.to) ? got.to.text : '').toBe('ann@example.com');
  });

  it('bad credentials fail the send (the engine retries it)', async () => {
    const smtp = await smtpServer();
    const t = track(createMailTransport({ smtpUrl: `smtp://mailer:wrong@127.0.0.1:${smtp.port}`, outboxDir: '/nonexistent', timeoutMs: 5000 }));
    await expect(t.send(await message())).rejects.toThrow();
    expect(smtp.mails).toHaveLength(0);
  });
});

describe('outbox transport', () => {
  it('writes a parseable .eml per Message-ID; the same Message-ID again overwrites, never duplicates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smashsend-outbox-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const outbox = join(dir, 'outbox');
    const t = track(createMailTransport({ outboxDir: outbox }));
    expect(t.kind).toBe('outbox');
    const first = await t.send(await message());
    expect(first.path).toMatch(/\/\d{8}T\d{9}Z-[0-9a-f]{32}\.eml$/);
    const parsed = await simpleParser(readFileSync(first.path!));
    expect(parsed.subject).toBe('Welcome, Ann & Co');
    expect(parsed.messageId).toBe('<run_abc.welcome@mail.example.com>');
    expect(headerLine(parsed, 'list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');

    // A rendered subject cannot add headers: nodemailer folds line breaks into spaces.
    const injected = await t.send(await message({ subject: 'Hi\r\nBcc: evil@example.com', messageId: '<inj@x>' }));
    const inj = await simpleParser(readFileSync(injected.path!));
    expect(inj.bcc).toBeUndefined();
    expect(inj.subject).toBe('Hi Bcc: evil@example.com');
    rmSync(injected.path!);
    const fresh = track(createMailTransport({ outboxDir: outbox }));

    const again = await fresh.send(await message({ subject: 'Second try' }));
    expect(again.path).toBe(first.path);
    await new Promise((r) => setTimeout(r, 5));
    const other = await t.send(await message({ messageId: messageIdFor('run_abc', 'later', 'mail.example.com') }));
    const files = readdirSync(outbox);
    expect(files).toHaveLength(2);
    expect([...files].sort()).toEqual([first.path!.split('/').pop(), other.path!.split('/').pop()]);
    expect((await simpleParser(readFileSync(first.path!))).subject).toBe('Second try');

    // A new transport on the same directory (a restart) still finds the file of a Message-ID.
    const t2 = track(createMailTransport({ outboxDir: outbox }));
    expect((await t2.send(await message())).path).toBe(first.path);
    expect(readdirSync(outbox)).toHaveLength(2);
  });
});

describe('message identity', () => {
  it('Message-IDs are stable per run and step, and their domain comes from EMAIL_FROM or PUBLIC_URL', () => {
    expect(messageIdFor('run_1', 'step 1', 'x.com')).toBe('<run_1.step-1@x.com>');
    expect(messageIdFor('run_1', 'step 1', 'x.com')).toBe(messageIdFor('run_1', 'step 1', 'x.com'));
    expect(messageIdDomain('SMASHSEND <no-reply@Mail.Example.com>', 'http://127.0.0.1:3000')).toBe('mail.example.com');
    expect(messageIdDomain('no-reply@b.com', 'http://127.0.0.1:3000')).toBe('b.com');
    expect(messageIdDomain('nobody', 'https://app.example.org/x')).toBe('app.example.org');
  });
});
