/**
 * A real SMTP server for tests (smtp-server on a free loopback port), every message parsed with
 * mailparser into `mails` as it arrives. With `auth`, AUTH PLAIN/LOGIN is required and checked
 * against it (attempts recorded in `auths`); without, AUTH and STARTTLS are disabled.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface MailServer {
  port: number;
  /** `smtp://127.0.0.1:<port>` (no credentials). */
  url: string;
  mails: ParsedMail[];
  auths: { user: string; pass: string }[];
  close(): Promise<void>;
}

export async function startMailServer(opts: { auth?: { user: string; pass: string } } = {}): Promise<MailServer> {
  const mails: ParsedMail[] = [];
  const auths: { user: string; pass: string }[] = [];
  const { auth } = opts;
  const server = new SMTPServer({
    disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    // Senders keep their SMTP connection open (nodemailer's pool): don't wait 30 s for it at close.
    closeTimeout: 100,
    logger: false,
    ...(auth
      ? {
          allowInsecureAuth: true,
          authMethods: ['PLAIN', 'LOGIN'],
          onAuth(a, _session, cb) {
            auths.push({ user: a.username ?? '', pass: a.password ?? '' });
            if (a.username === auth.user && a.password === auth.pass) return cb(null, { user: auth.user });
            return cb(new Error('bad credentials'));
          },
        }
      : {}),
    onData(stream, _session, cb) {
      simpleParser(stream).then(
        (m) => {
          mails.push(m);
          cb();
        },
        (err: Error) => cb(err),
      );
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, url: `smtp://127.0.0.1:${port}`, mails, auths, close: () => new Promise<void>((r) => server.close(() => r())) };
}
