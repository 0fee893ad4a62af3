/**
 * The webhook sender against real HTTP receivers on 127.0.0.1 (so allowedHosts or
 * allowPrivate lifts the egress filter), every delivery verified with the `standardwebhooks`
 * package, as a receiver would.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { nonPublicReason } from './egress.js';
import { generateWebhookSecret, signatureHeader, signWebhook } from './webhook-signing.js';
import { WebhookSender, checkWebhookHeaders, nextRetryDelayMs, parseRetryAfter, parseRetrySchedule, type WebhookRequest } from './webhook-sender.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  url: string;
}

const servers: Server[] = [];
const senders: WebhookSender[] = [];

async function receiver(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ headers: req.headers, body, url: req.url ?? '' });
      handle(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

function sender(over: Partial<ConstructorParameters<typeof WebhookSender>[0]> = {}): WebhookSender {
  const s = new WebhookSender({ timeoutMs: 2000, allowPrivate: false, allowedHosts: ['127.0.0.1'], ...over });
  senders.push(s);
  return s;
}

function request(url: string, secrets: string[], over: Partial<WebhookRequest> = {}): WebhookRequest {
  return {
    url,
    deliveryId: 'dlv_test1',
    body: JSON.stringify({ type: 'workflow.webhook', timestamp: new Date().toISOString(), data: { runId: 'run_1' } }),
    secrets,
    timestampSec: Math.floor(Date.now() / 1000),
    ...over,
  };
}

afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('webhook signing', () => {
  it('makes whsec_ secrets of 24 random bytes, and signatures standardwebhooks verifies', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(24);
    expect(generateWebhookSecret()).not.toBe(secret);
    const ts = Math.floor(Date.now() / 1000);
    const sig = signWebhook(secret, 'msg_1', ts, '{"a":1}');
    expect(sig).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const wh = new Webhook(secret);
    expect(wh.verify('{"a":1}', { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': sig })).toEqual({ a: 1 });
    expect(() => wh.verify('{"a":2}', { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': sig })).toThrow();
    const two = signatureHeader([secret, generateWebhookSecret()], 'msg_1', ts, 'x');
    expect(two.split(' ')).toHaveLength(2);
    expect(two.split(' ')[0]).toBe(signWebhook(secret, 'msg_1', ts, 'x'));
  });
});

describe('WebhookSender', () => {
  it('POSTs JSON with Standard Webhooks headers and the step headers, which cannot override them', async () => {
    const r = await receiver((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks'));
    const secret = generateWebhookSecret();
    const req = request(`${r.url}/hook?x=1`, [secret], {
      headers: { 'X-Custom': 'yes', 'webhook-id': 'forged', 'Content-Length': '1', Host: 'evil.example', Connection: 'close', 'Content-Type': 'text/plain' },
    });
    const out = await sender().send(req);
    expect(out).toMatchObject({ kind: 'success', status: 200, response: 'thanks' });
    expect(out.latencyMs).toBeGreaterThanOrEqual(0);
    const got = r.received[0]!;
    expect(got.url).toBe('/hook?x=1');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-custom']).toBe('yes');
    expect(got.headers['webhook-id']).toBe('dlv_test1');
    expect(got.headers.host).toBe(new URL(r.url).host);
    expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toEqual(JSON.parse(req.body));
  });

  it('sends two signatures after a rotation, each verifying with its own secret', async () => {
    const r = await receiver((_req, res) => res.writeHead(204).end());
    const current = generateWebhookSecret();
    const previous = generateWebhookSecret();
    expect((await sender().send(request(r.url, [current, previous]))).kind).toBe('success');
    const got = r.received[0]!;
    const sigs = String(got.headers['webhook-signature']).split(' ');
    expect(sigs).toHaveLength(2);
    for (const secret of [current, previous]) expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toBeTruthy();
    expect(() => new Webhook(generateWebhookSecret()).verify(got.body, got.headers as Record<string, string>)).toThrow();
  });

  it('500 is a retry with the first 1 KB of the body; 410 is gone; 429 carries Retry-After', async () => {
    const r = await receiver((req, res) => {
      if (req.url === '/500') res.writeHead(500).end('x'.repeat(5000));
      else if (req.url === '/410') res.writeHead(410).end('gone\u0000');
      else res.writeHead(429, { 'retry-after': '120' }).end();
    });
    const s = sender();
    const five = await s.send(request(`${r.url}/500`, [generateWebhookSecret()]));
    expect(five).toMatchObject({ kind: 'retry', status: 500, error: 'HTTP 500' });
    expect(five.kind === 'retry' && five.response).toHaveLength(1024);
    expect(await s.send(request(`${r.url}/410`, [generateWebhookSecret()]))).toMatchObject({ kind: 'gone', status: 410, response: 'gone\ufffd' });
    expect(await s.send(request(`${r.url}/429`, [generateWebhookSecret()]))).toMatchObject({ kind: 'retry', status: 429, retryAfterMs: 120_000 });
  });

  it('a 302 is a retry and the redirect is not followed', async () => {
    const r = await receiver((req, res) => {
      if (req.url === '/start') res.writeHead(302, { location: '/elsewhere' }).end();
      else res.writeHead(200).end('followed');
    });
    const out = await sender().send(request(`${r.url}/start`, [generateWebhookSecret()]));
    expect(out).toMatchObject({ kind: 'retry', status: 302 });
    expect(r.received.map((x) => x.url)).toEqual(['/start']);
  });

  it('a receiver that accepts and never answers is a retry after timeoutMs; one that trickles its body is cut there too', async () => {
    const hang = await receiver(() => {});
    const s = sender({ timeoutMs: 300 });
    const t0 = Date.now();
    const out = await s.send(request(hang.url, [generateWebhookSecret()]));
    expect(out).toMatchObject({ kind: 'retry', status: null, error: 'no response within 300 ms' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(Date.now() - t0).toBeLessThan(2000);

    const trickle = await receiver((_req, res) => {
      res.writeHead(503);
      const t = setInterval(() => res.write('.'), 50);
      res.on('close', () => clearInterval(t));
    });
    const t1 = Date.now();
    const slow = await s.send(request(trickle.url, [generateWebhookSecret()]));
    expect(slow).toMatchObject({ kind: 'retry', status: 503 });
    expect(Date.now() - t1).toBeLessThan(2000);
  });

  it('a huge response body is read to 1 KB only', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200);
      const chunk = 'y'.repeat(64 * 1024);
      let sent = 0;
      const pump = () => {
        while (sent < 200 && res.write(chunk)) sent++;
        if (sent < 200) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
    const out = await sender().send(request(r.url, [generateWebhookSecret()]));
    expect(out).toMatchObject({ kind: 'success', status: 200 });
    expect(out.kind === 'success' && out.response.length).toBe(1024);
  });

  it('refuses loopback without allowPrivate, literal or by a name that resolves to it; allowPrivate lifts it', async () => {
    const r = await receiver((_req, res) => res.writeHead(200).end());
    const port = new URL(r.url).port;
    const strict = sender({ allowedHosts: [] });
    const literal = await strict.send(request(r.url, [generateWebhookSecret()]));
    expect(literal).toMatchObject({ kind: 'refused' });
    expect(literal.kind === 'refused' && literal.error).toMatch(/127\.0\.0\.1/);
    expect(await strict.send(request(`http://[::1]:${port}/`, [generateWebhookSecret()]))).toMatchObject({ kind: 'refused' });
    expect(await strict.send(request(`http://[::ffff:127.0.0.1]:${port}/`, [generateWebhookSecret()]))).toMatchObject({ kind: 'refused' });
    // 127.0.0.1 is allowed by address, yet `localhost` is a name: judged on what it resolves to.
    const byName = await sender({ allowedHosts: ['127.0.0.1'] }).send(request(`http://localhost:${port}/`, [generateWebhookSecret()]));
    expect(byName).toMatchObject({ kind: 'refused' });
    expect(byName.kind === 'refused' && byName.error).toMatch(/localhost/);
    expect(r.received).toHaveLength(0);
    expect(await sender({ allowedHosts: ['localhost'] }).send(request(`http://localhost:${port}/`, [generateWebhookSecret()]))).toMatchObject({ kind: 'success' });
    expect(await sender({ allowPrivate: true, allowedHosts: [] }).send(request(r.url, [generateWebhookSecret()]))).toMatchObject({ kind: 'success' });
    // https goes through the same lookup (tls.connect): refused before any TLS.
    const tls = await strict.send(request(`https://localhost:${port}/`, [generateWebhookSecret()]));
    expect(tls).toMatchObject({ kind: 'refused' });
    expect(tls.kind === 'refused' && tls.error).toMatch(/localhost/);
    expect(await strict.send(request('ftp://example.com/x', [generateWebhookSecret()]))).toMatchObject({ kind: 'refused' });
    expect(await strict.send(request('not a url', [generateWebhookSecret()]))).toMatchObject({ kind: 'refused' });
  });

  it('a connection refused is a retry', async () => {
    const r = await receiver(() => {});
    const url = r.url;
    await new Promise((res) => r.server.close(res));
    expect(await sender().send(request(url, [generateWebhookSecret()]))).toMatchObject({ kind: 'retry', status: null, error: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('one hanging destination does not delay a send to another', async () => {
    const hang = await receiver(() => {});
    const fast = await receiver((_req, res) => res.writeHead(200).end('ok'));
    const s = sender({ timeoutMs: 1500 });
    const hanging = Array.from({ length: 20 }, () => s.send(request(hang.url, [generateWebhookSecret()])));
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    expect(await s.send(request(fast.url, [generateWebhookSecret()]))).toMatchObject({ kind: 'success' });
    expect(Date.now() - t0).toBeLessThan(500);
    for (const o of await Promise.all(hanging)) expect(o.kind).toBe('retry');
  });
});

describe('egress filter', () => {
  it('refuses non-public addresses in every spelling, allows public ones', () => {
    for (const a of [
      '127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '100.127.255.255',
      '0.0.0.0', '224.0.0.1', '255.255.255.255', '::', '::1', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1',
      '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '64:ff9b::a00:1', '2002:7f00:1::', '::127.0.0.1', '2001:db8::1',
    ]) {
      expect(nonPublicReason(a), a).not.toBeNull();
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '100.128.0.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2002:808:808::']) {
      expect(nonPublicReason(a), a).toBeNull();
    }
  });

  it('checkWebhookHeaders names what cannot be sent', () => {
    expect(checkWebhookHeaders({ 'X-Ok': 'v' })).toBeNull();
    expect(checkWebhookHeaders({ 'webhook-signature': 'v' })).toMatch(/webhook-signature/);
    expect(checkWebhookHeaders({ Host: 'x' })).toMatch(/Host/);
    expect(checkWebhookHeaders({ 'X-A': 'a\r\nb' })).toMatch(/invalid value/);
    expect(checkWebhookHeaders({ 'bad name': 'v' })).toMatch(/not valid/);
  });
});

describe('retry schedule', () => {
  it('parses seconds to ms and refuses bad input', () => {
    expect(parseRetrySchedule('5,300,1800,7200,18000,36000,36000')).toEqual([5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(parseRetrySchedule(' 1 , 2 ')).toEqual([1000, 2000]);
    for (const bad of ['', '5,,6', '5s', '-1', '1.5', '99999999']) expect(() => parseRetrySchedule(bad), bad).toThrow();
  });

  it('gives the delay after each failed attempt, honouring Retry-After, null when exhausted', () => {
    const s = parseRetrySchedule('5,300');
    expect(nextRetryDelayMs(1, s)).toBe(5000);
    expect(nextRetryDelayMs(2, s)).toBe(300_000);
    expect(nextRetryDelayMs(3, s)).toBeNull();
    expect(nextRetryDelayMs(1, s, 60_000)).toBe(60_000);
    expect(nextRetryDelayMs(2, s, 60_000)).toBe(300_000);
    expect(nextRetryDelayMs(3, s, 60_000)).toBeNull();
  });

  it('parses Retry-After as seconds or an HTTP-date', () => {
    const now = Date.UTC(2026, 0, 1, 0, 0, 0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(new Date(now + 90_000).toUTCString(), now)).toBe(90_000);
    expect(parseRetryAfter(new Date(now - 90_000).toUTCString(), now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('99999999', now)).toBe(86_400_000);
  });
});
