/**
 * Email delivery (SPEC.md, "Email step"): nodemailer over SMTP_URL, or, without it, `.eml`
 * files in the outbox directory so the embedded default works with no mail server.
 *
 * Identity: every message carries the Message-ID the engine derives from run and step
 * (messageIdFor), so a step retried after a crash is recognisably the same message; the
 * outbox goes further and keeps one file per Message-ID (a rewrite replaces it).
 */
import { createHash } from 'node:crypto';
// Async file calls only: the outbox is written by the worker and read by dashboard requests,
// both on the HTTP process's event loop in `npm start`.
import { mkdir, open, readdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';

export interface EmailMessage {
  from: string;
  to: string;
  subject: string;
  html?: string;
  text?: string;
  messageId: string;
  /** Extra headers (List-Unsubscribe, List-Unsubscribe-Post, …). */
  headers: Record<string, string>;
}

export interface MailTransport {
  readonly kind: 'smtp' | 'outbox';
  send(msg: EmailMessage): Promise<{ messageId: string; response: string; path?: string }>;
  close(): Promise<void>;
}

function mailOptions(msg: EmailMessage): SendMailOptions {
  return {
    from: msg.from,
    to: msg.to,
    subject: msg.subject,
    messageId: msg.messageId,
    headers: msg.headers,
    ...(msg.html !== undefined ? { html: msg.html } : {}),
    ...(msg.text !== undefined ? { text: msg.text } : {}),
  };
}

class SmtpTransport implements MailTransport {
  readonly kind = 'smtp' as const;
  private readonly transporter: Transporter;

  constructor(url: string, timeoutMs: number) {
    const u = new URL(url);
    // user and password come percent-encoded in the URL; nodemailer's own URL parser would
    // also take options from the query string, which we do not offer.
    this.transporter = nodemailer.createTransport({
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port ? Number(u.port) : u.protocol === 'smtps:' ? 465 : 587,
      secure: u.protocol === 'smtps:',
      ...(u.username ? { auth: { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } } : {}),
      // A few connections reused across steps; each phase bounded so a silent server fails the step (retried), not hangs it.
      pool: true,
      maxConnections: 5,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
  }

  async send(msg: EmailMessage): Promise<{ messageId: string; response: string }> {
    const info = await this.transporter.sendMail(mailOptions(msg));
    return { messageId: info.messageId ?? msg.messageId, response: String(info.response ?? '') };
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}

/** A sortable UTC stamp for file names: 20261202T195726123Z. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

/** An outbox file's name: `<UTC stamp>-<sha256(Message-ID) prefix>.eml` (nothing else in the directory is one). */
export const OUTBOX_FILE = /^\d{8}T\d{9}Z-([0-9a-f]{32})\.eml$/;

/**
 * `.eml` files named `<UTC time of first write>-<sha256(Message-ID) prefix>.eml`: they sort
 * by time, and the hash makes the name unique per Message-ID. A second write of one
 * Message-ID replaces the first file (same name: found by its hash suffix in an index of the
 * directory read once, then kept up to date). Written to a temporary name and renamed, so a
 * reader never sees half a message. One process writes an outbox directory (the embedded
 * default); two processes sharing one could each keep a file for a Message-ID both sent.
 */
class OutboxTransport implements MailTransport {
  readonly kind = 'outbox' as const;
  private readonly dir: string;
  private readonly builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  private index: Map<string, string> | null = null;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  private async names(): Promise<Map<string, string>> {
    if (this.index) return this.index;
    await mkdir(this.dir, { recursive: true });
    const index = new Map<string, string>();
    for (const f of await readdir(this.dir)) {
      const m = OUTBOX_FILE.exec(f);
      if (m) index.set(m[1]!, f);
    }
    return (this.index = index);
  }

  async send(msg: EmailMessage): Promise<{ messageId: string; response: string; path: string }> {
    const info = (await this.builder.sendMail(mailOptions(msg))) as { message: Buffer };
    const hash = createHash('sha256').update(msg.messageId).digest('hex').slice(0, 32);
    const names = await this.names();
    const name = names.get(hash) ?? `${stamp(Date.now())}-${hash}.eml`;
    const path = join(this.dir, name);
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, info.message);
    await rename(tmp, path);
    names.set(hash, name);
    return { messageId: msg.messageId, response: `written to ${path}`, path };
  }

  async close(): Promise<void> {}
}

/** One outbox file as listed: its name, size, when written, and the headers a list shows. */
export interface OutboxEntry {
  name: string;
  size: number;
  writtenAt: number;
  messageId: string | null;
  from: string | null;
  to: string | null;
  subject: string | null;
}

/** The header block is read from at most this many bytes of a file (ours are a few hundred). */
const HEADER_BYTES = 16 * 1024;

/** The unfolded header fields of a message's header block (first occurrence of each, lower-cased names). */
function headerFields(head: string): Map<string, string> {
  const end = head.search(/\r?\n\r?\n/);
  const lines = (end === -1 ? head : head.slice(0, end)).split(/\r?\n/);
  const fields = new Map<string, string>();
  let last: string | null = null;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && last) fields.set(last, `${fields.get(last)} ${line.trim()}`);
    else {
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const name = line.slice(0, i).trim().toLowerCase();
      last = fields.has(name) ? null : name;
      if (last) fields.set(last, line.slice(i + 1).trim());
    }
  }
  return fields;
}

/**
 * Reading the outbox the OutboxTransport writes (the dashboard's Settings → mail): names by
 * OUTBOX_FILE only (no path from a caller is ever joined unchecked), newest first by the
 * stamp in the name, and a bounded read of each.
 */
export class OutboxReader {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** Names of the outbox files, newest first (a missing directory: none). */
  async names(): Promise<string[]> {
    let all: string[];
    try {
      all = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return all.filter((f) => OUTBOX_FILE.test(f)).sort().reverse();
  }

  /** The file's headers (from its first 16 KB); null when the name is not an outbox file's or it is gone. */
  async entry(name: string): Promise<OutboxEntry | null> {
    const head = await this.read(name, HEADER_BYTES);
    if (head === null) return null;
    const f = headerFields(head.text);
    return { name, size: head.size, writtenAt: head.mtimeMs, messageId: f.get('message-id') ?? null, from: f.get('from') ?? null, to: f.get('to') ?? null, subject: f.get('subject') ?? null };
  }

  /** The file as text, at most `maxBytes` of it; null when the name is not an outbox file's or it is gone. */
  async read(name: string, maxBytes: number): Promise<{ text: string; size: number; mtimeMs: number; truncated: boolean } | null> {
    if (!OUTBOX_FILE.test(name)) return null;
    let fh;
    try {
      fh = await open(join(this.dir, name), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const st = await fh.stat();
      const buf = Buffer.alloc(Math.min(st.size, maxBytes));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return { text: buf.subarray(0, bytesRead).toString('utf8'), size: st.size, mtimeMs: st.mtimeMs, truncated: st.size > bytesRead };
    } finally {
      await fh.close();
    }
  }
}

/** The run a workflow email's Message-ID was minted for (messageIdFor: `<run_….stepId@domain>`), or null. */
export function runIdOfMessageId(messageId: string): string | null {
  const m = /^<(run_[A-Za-z0-9_-]+)\./.exec(messageId.trim());
  return m ? m[1]! : null;
}

/** nodemailer over SMTP_URL (smtp:// or smtps://, user and password in the URL); without it, `.eml` files under outboxDir. */
export function createMailTransport(o: { smtpUrl?: string | undefined; outboxDir: string; timeoutMs?: number }): MailTransport {
  if (o.smtpUrl) {
    if (!/^smtps?:\/\//.test(o.smtpUrl)) throw new Error('SMTP_URL must be smtp://… or smtps://…');
    return new SmtpTransport(o.smtpUrl, o.timeoutMs ?? 30_000);
  }
  return new OutboxTransport(o.outboxDir);
}

/** A stable Message-ID for a run's step: `<run_xxx.stepId@domain>` (domain from EMAIL_FROM or PUBLIC_URL host). */
export function messageIdFor(runId: string, stepId: string, domain: string): string {
  // Message-ID's id-left is dot-atom text: anything else in a step id becomes "-".
  const atom = (s: string) => s.replace(/[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]/g, '-').replace(/^\.+|\.+$/g, '').replace(/\.{2,}/g, '.') || 'x';
  const right = domain.replace(/^\[|\]$/g, '').replace(/[^A-Za-z0-9.-]/g, '-') || 'localhost';
  return `<${atom(runId)}.${atom(stepId)}@${right}>`;
}

/** The domain a Message-ID is minted in: EMAIL_FROM's address domain, else PUBLIC_URL's host. */
export function messageIdDomain(emailFrom: string, publicUrl: string): string {
  const m = /@([^\s>@]+)>?\s*$/.exec(emailFrom.trim());
  if (m) return m[1]!.toLowerCase();
  try {
    return new URL(publicUrl).hostname || 'localhost';
  } catch {
    return 'localhost';
  }
}

/** List-Unsubscribe: <{PUBLIC_URL}/unsubscribe/{token}>, List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058). */
export function listUnsubscribeHeaders(publicUrl: string, token: string): Record<string, string> {
  return {
    'List-Unsubscribe': `<${publicUrl.replace(/\/+$/, '')}/unsubscribe/${encodeURIComponent(token)}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}
