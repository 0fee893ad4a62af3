/**
 * Over real HTTP: the webhook signing secret settings (per workspace, by API key) and the
 * unsubscribe links (RFC 8058 one-click POST, GET confirm page, forged tokens refused).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookSender } from '../src/workflows/transports/webhook-sender.js';
import { signUnsubscribeToken } from '../src/workflows/unsubscribe-token.js';
import { call } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let otherKey: string;

beforeAll(async () => {
  s = await startTestServer();
  otherKey = await s.createKey('other');
});
afterAll(async () => {
  await s?.close();
});

async function workspaceOf(key: string): Promise<string> {
  return (await call(`${s.url}/v1/api-keys/check`, { key })).body.workspace.id;
}

async function contact(key: string, email: string): Promise<{ id: string; properties: { status: string } }> {
  const r = await call(`${s.url}/v1/contacts`, { key, body: { properties: { email } } });
  expect(r.status).toBeLessThan(300);
  return r.body.contact;
}

async function statusOf(key: string, id: string): Promise<string> {
  return (await call(`${s.url}/v1/contacts/${id}`, { key })).body.contact.properties.status;
}

async function tokenFor(key: string, contactId: string): Promise<string> {
  const ws = await workspaceOf(key);
  return signUnsubscribeToken(await s.store.secrets.unsubscribeKey(ws, Date.now()), { workspaceId: ws, contactId, runId: 'run_test' });
}

describe('webhook signing secret settings', () => {
  it('GET needs a key, answers one stable whsec_ secret per workspace', async () => {
    expect((await call(`${s.url}/v1/settings/webhook-secret`)).status).toBe(401);
    const a = await call(`${s.url}/v1/settings/webhook-secret`, { key: s.key });
    expect(a.status).toBe(200);
    expect(a.headers.get('x-ratelimit-limit')).toBe('6000');
    expect(a.body).toEqual({ secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{32}$/) });
    expect((await call(`${s.url}/v1/settings/webhook-secret`, { key: s.key })).body).toEqual(a.body);
    const other = await call(`${s.url}/v1/settings/webhook-secret`, { key: otherKey });
    expect(other.body.secret).not.toBe(a.body.secret);
  });

  it('rotate gives a new secret, keeps the old one signing for 24 h, and touches no other workspace', async () => {
    const before = (await call(`${s.url}/v1/settings/webhook-secret`, { key: s.key })).body.secret;
    const otherBefore = (await call(`${s.url}/v1/settings/webhook-secret`, { key: otherKey })).body.secret;
    const t0 = Date.now();
    const r = await call(`${s.url}/v1/settings/webhook-secret/rotate`, { key: s.key, method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.body.secret).toMatch(/^whsec_/);
    expect(r.body.secret).not.toBe(before);
    const until = Date.parse(r.body.previousValidUntil);
    expect(until - t0).toBeGreaterThanOrEqual(24 * 3_600_000 - 1000);
    expect(until - t0).toBeLessThanOrEqual(24 * 3_600_000 + 5000);
    expect((await call(`${s.url}/v1/settings/webhook-secret`, { key: s.key })).body.secret).toBe(r.body.secret);
    const ws = await workspaceOf(s.key);
    expect(await s.store.secrets.signingSecrets(ws, Date.now())).toEqual([r.body.secret, before]);
    expect((await call(`${s.url}/v1/settings/webhook-secret`, { key: otherKey })).body.secret).toBe(otherBefore);
    // A JSON body is accepted and ignored.
    expect((await call(`${s.url}/v1/settings/webhook-secret/rotate`, { key: s.key, body: {} })).status).toBe(200);
    expect((await call(`${s.url}/v1/settings/webhook-secret/rotate`, { method: 'POST' })).status).toBe(401);
  });
});

describe('signing with the stored secrets', () => {
  it('after a rotation through the API, a delivery verifies with the new secret and with the old one', async () => {
    const old = (await call(`${s.url}/v1/settings/webhook-secret`, { key: otherKey })).body.secret as string;
    const fresh = (await call(`${s.url}/v1/settings/webhook-secret/rotate`, { key: otherKey, method: 'POST' })).body.secret as string;
    const got: { headers: Record<string, string>; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        got.push({ headers: req.headers as Record<string, string>, body });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const sender = new WebhookSender({ timeoutMs: 2000, allowPrivate: false, allowedHosts: ['127.0.0.1'] });
    try {
      const secrets = await s.store.secrets.signingSecrets(await workspaceOf(otherKey), Date.now());
      const out = await sender.send({
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
        deliveryId: 'dlv_rot',
        body: '{"type":"workflow.webhook"}',
        secrets,
        timestampSec: Math.floor(Date.now() / 1000),
      });
      expect(out.kind).toBe('success');
    } finally {
      await sender.close();
      await new Promise((r) => receiver.close(r));
    }
    for (const secret of [fresh, old]) expect(new Webhook(secret).verify(got[0]!.body, got[0]!.headers)).toEqual({ type: 'workflow.webhook' });
  });
});

describe('unsubscribe links', () => {
  it('POST (one-click, form-encoded) unsubscribes the contact at once, with a tiny body', async () => {
    const c = await contact(s.key, 'ann@example.com');
    expect(c.properties.status).toBe('SUBSCRIBED');
    const token = await tokenFor(s.key, c.id);
    const r = await call(`${s.url}/unsubscribe/${token}`, {
      method: 'POST',
      raw: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ unsubscribed: true });
    expect(await statusOf(s.key, c.id)).toBe('UNSUBSCRIBED');
    // Again: still 200, nothing to change.
    expect((await call(`${s.url}/unsubscribe/${token}`, { method: 'POST', raw: 'List-Unsubscribe=One-Click' })).status).toBe(200);
  });

  it('POST with a multipart body or none works too; a browser form gets a short HTML note', async () => {
    const c1 = await contact(s.key, 'bob@example.com');
    const form = new FormData();
    form.set('List-Unsubscribe', 'One-Click');
    const multipart = await fetch(`${s.url}/unsubscribe/${await tokenFor(s.key, c1.id)}`, { method: 'POST', body: form });
    expect(multipart.status).toBe(200);
    expect(await statusOf(s.key, c1.id)).toBe('UNSUBSCRIBED');
    const c2 = await contact(s.key, 'cid@example.com');
    const html = await call(`${s.url}/unsubscribe/${await tokenFor(s.key, c2.id)}`, { method: 'POST', headers: { accept: 'text/html' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.text).toMatch(/not receive/);
    expect(await statusOf(s.key, c2.id)).toBe('UNSUBSCRIBED');
  });

  it('GET shows a confirm page whose form POSTs the same URL, and changes nothing', async () => {
    const c = await contact(s.key, 'dee@example.com');
    const token = await tokenFor(s.key, c.id);
    const r = await call(`${s.url}/unsubscribe/${token}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect(r.text).toContain(`<form method="post" action="${token}">`);
    expect(new URL(token, `${s.url}/unsubscribe/${token}`).pathname).toBe(`/unsubscribe/${token}`);
    expect(r.text).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(await statusOf(s.key, c.id)).toBe('SUBSCRIBED');
  });

  it('a forged, tampered or foreign-workspace token is refused: 404 JSON for POST, an HTML page for GET', async () => {
    const c = await contact(s.key, 'eve@example.com');
    const ws = await workspaceOf(s.key);
    const forged = signUnsubscribeToken(Buffer.alloc(32, 7), { workspaceId: ws, contactId: c.id });
    const post = await call(`${s.url}/unsubscribe/${forged}`, { method: 'POST', raw: 'List-Unsubscribe=One-Click' });
    expect(post.status).toBe(404);
    expect(post.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND', message: 'Unsubscribe link not found' });
    const get = await call(`${s.url}/unsubscribe/${forged}`);
    expect(get.status).toBe(404);
    expect(get.headers.get('content-type')).toContain('text/html');
    expect((await call(`${s.url}/unsubscribe/garbage`, { method: 'POST' })).status).toBe(404);
    // The other workspace's key signs a token naming this workspace's contact: refused.
    const otherWs = await workspaceOf(otherKey);
    const otherKeyBytes = await s.store.secrets.unsubscribeKey(otherWs, Date.now());
    const cross = signUnsubscribeToken(otherKeyBytes, { workspaceId: ws, contactId: c.id });
    expect((await call(`${s.url}/unsubscribe/${cross}`, { method: 'POST' })).status).toBe(404);
    // A valid token of the other workspace cannot reach this workspace's contact.
    const otherToken = signUnsubscribeToken(otherKeyBytes, { workspaceId: otherWs, contactId: c.id });
    expect((await call(`${s.url}/unsubscribe/${otherToken}`, { method: 'POST' })).status).toBe(200);
    expect(await statusOf(s.key, c.id)).toBe('SUBSCRIBED');
  });
});
