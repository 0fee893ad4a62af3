/**
 * The dashboard's security: every API route refuses a request without a session (walked from
 * the route table, so a new route cannot forget it), workspaces are isolated, cross-site
 * requests are refused, sign-in is rate-limited, and the session cookie has its flags.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintSetupLink } from '../src/users/setup-link.js';
import { SIGN_IN_LIMITS } from '../src/dashboard/dashboard-api.routes.js';
import { STEP_KIND } from '../src/workflows/runner.js';
import { createUser, dash, signIn, PASSWORD } from '../src/testing/dashboard.js';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
/** A webhook destination that answers 410: workspace B's delivery fails at once. */
let receiver: Server;
/** Where B's workflow email is written (no SMTP_URL). */
let outbox: string;
beforeAll(async () => {
  receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(410).end('gone')));
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  outbox = mkdtempSync(join(tmpdir(), 'sec-outbox-'));
  s = await startTestServer({ env: { WEBHOOK_ALLOW_PRIVATE: 'true', OUTBOX_DIR: outbox } });
});
afterAll(async () => {
  await s.close();
  rmSync(outbox, { recursive: true, force: true });
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
});

const routes = () => (s.server as unknown as { dashboardRoutes: { method: string; url: string; public: boolean }[] }).dashboardRoutes;

describe('dashboard API security', () => {
  it('every route without dashboardPublic answers 401 UNAUTHENTICATED without a session, or with a bogus one', async () => {
    const table = routes().filter((r) => r.method !== 'HEAD');
    expect(table.length).toBeGreaterThanOrEqual(12);
    // The segments, workflows and deliveries routes are in the walked table.
    expect(table.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        'GET /dashboard/api/segments/:id/transitions',
        'GET /dashboard/api/workflows/:id/runs',
        'POST /dashboard/api/workflows/:id/pause',
        'GET /dashboard/api/runs/:id',
        'GET /dashboard/api/webhook-deliveries/:id',
        'POST /dashboard/api/webhook-deliveries/:id/retry',
        'GET /dashboard/api/settings/webhook-secret',
        'POST /dashboard/api/settings/webhook-secret/rotate',
        'GET /dashboard/api/settings/mail',
        'GET /dashboard/api/outbox',
        'GET /dashboard/api/outbox/:name',
        'GET /dashboard/api/dead-jobs',
        'GET /dashboard/api/workflows/:id/versions',
        'GET /dashboard/api/catalog/events',
      ]),
    );
    // The Failed page's retries of events and dead jobs are walked too.
    expect(table.map((r) => `${r.method} ${r.url}`)).toEqual(expect.arrayContaining(['POST /dashboard/api/events/:messageId/retry', 'POST /dashboard/api/dead-jobs/:id/retry']));
    expect(table.filter((r) => r.public).map((r) => r.url).sort()).toEqual(['/dashboard/api/setup', '/dashboard/api/sign-in']);
    for (const r of table.filter((x) => !x.public)) {
      expect(r.url.startsWith('/dashboard/api/'), r.url).toBe(true);
      const path = r.url.replace(/:\w+/g, 'x');
      for (const cookie of [undefined, 'smashsend_session=forged']) {
        const res = await call(`${s.url}${path}`, { method: r.method, headers: cookie ? { cookie } : {}, ...(r.method === 'GET' ? {} : { body: {} }) });
        expect(res.status, `${r.method} ${r.url}`).toBe(401);
        expect(res.body, `${r.method} ${r.url}`).toMatchObject({ statusCode: 401, code: 'UNAUTHENTICATED' });
      }
    }
  });

  it('the session cookie is HttpOnly, SameSite=Lax, Path=/, and Secure behind https', async () => {
    const u = await createUser(s.store, ['default']);
    const r = await call(`${s.url}/dashboard/api/sign-in`, { body: { email: u.email, password: PASSWORD } });
    expect(r.status).toBe(200);
    const c = r.headers.get('set-cookie')!;
    expect(c).toMatch(/^smashsend_session=[\w-]{43};/);
    expect(c).toContain('HttpOnly');
    expect(c).toContain('SameSite=Lax');
    expect(c).toContain('Path=/');
    expect(c).not.toContain('Secure');
    const https = await call(`${s.url}/dashboard/api/sign-in`, { body: { email: u.email, password: PASSWORD }, headers: { 'x-forwarded-proto': 'https' } });
    expect(https.headers.get('set-cookie')).toContain('; Secure');
    expect(JSON.stringify(r.body)).not.toContain(c.split(';')[0]!.split('=')[1]!); // the token is not in the body
  });

  it('a session of workspace A cannot read or change anything of workspace B', async () => {
    const a = await createUser(s.store, ['ws-a']);
    const keyB = await s.createKey('ws-b');
    expect((await call(`${s.url}/v1/events`, { key: keyB, body: ev({ messageId: 'only-b', identify: { email: 'b@example.com' } }) })).status).toBe(200);
    await s.drain();
    const session = await signIn(s.url, a.email);
    expect(session.body.workspace.name).toBe('ws-a');
    expect((await dash(s.url, session, '/events/only-b')).status).toBe(404);
    expect((await dash(s.url, session, '/events')).body.events.items).toEqual([]);
    expect((await dash(s.url, session, '/contacts')).body.contacts.items).toEqual([]);
    const bContact = await s.store.contacts.findByEmail((await s.store.keys.ensureWorkspace('ws-b', 0)).id, 'b@example.com');
    expect((await dash(s.url, session, `/contacts/${bContact!.id}`)).status).toBe(404);
    const bKeys = (await s.store.keys.listKeys()).filter((k) => k.workspaceName === 'ws-b');
    expect((await dash(s.url, session, '/keys')).body.keys).toEqual([]);
    expect((await dash(s.url, session, `/keys/${bKeys[0]!.id}/revoke`, { body: {} })).status).toBe(404);
    expect((await s.store.keys.listKeys()).find((k) => k.id === bKeys[0]!.id)?.revokedAt).toBeNull();
    const wsB = (await s.store.keys.ensureWorkspace('ws-b', 0)).id;
    expect((await dash(s.url, session, '/workspace', { body: { workspaceId: wsB } })).status).toBe(404);
  });

  it("a session of workspace A cannot read B's segments, workflows, runs or deliveries, nor pause or retry them", async () => {
    const a = await createUser(s.store, ['iso-a']);
    const keyB = await s.createKey('iso-b');
    const b = (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${s.url}${path}`, { key: keyB, ...opts });
    const seg = (await b('/v1/segments', { body: { name: 'B only', rule: { property: 'contact.plan', op: 'exists' } } })).body.segment;
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/b`;
    const wf = (await b('/v1/workflows', { body: { name: 'B flow', trigger: { event: 'b.hook' }, steps: [{ id: 'notify', type: 'webhook', url }] } })).body.workflow;
    expect((await b('/v1/events', { body: ev({ event: 'b.hook', identify: { email: 'iso-b@example.com', traits: { plan: 'x' } } }) })).status).toBe(200);
    await s.drain();
    const run = (await b(`/v1/workflows/${wf.id}/runs`)).body.runs.items[0];
    const delivery = (await b('/v1/webhook-deliveries?status=failed')).body.deliveries.items[0];
    expect(run?.id && delivery?.id && seg?.id).toBeTruthy();

    // A dead step job of B's run (made through the job queue port): on B's Failed page only.
    const now = Date.now();
    const deadId = (await s.store.jobs.enqueue([{ kind: STEP_KIND, key: `${run.id}@dead-iso`, payload: { runId: run.id, pos: [0] }, runAt: now, maxAttempts: 1 }], now))[0]!.id;
    expect((await s.store.jobs.claim({ workerId: 'iso', kinds: [STEP_KIND], limit: 10, now, leaseMs: 60_000 })).map((j) => j.id)).toContain(deadId);
    await s.store.jobs.fail({ workerId: 'iso', id: deadId, error: 'B only', retryAt: null, now });
    const sessionB = await signIn(s.url, (await createUser(s.store, ['iso-b'])).email);
    expect((await dash(s.url, sessionB, '/dead-jobs')).body.deadJobs.items.map((j: { id: number }) => j.id)).toContain(deadId);

    const session = await signIn(s.url, a.email);
    for (const path of ['/segments', '/workflows', '/webhook-deliveries', '/webhook-deliveries?status=failed', '/dead-jobs', '/events?status=failed']) {
      const list = (await dash(s.url, session, path)).body;
      expect(Object.values(list)[0], path).toMatchObject({ items: [] });
    }
    for (const path of [`/segments/${seg.id}`, `/segments/${seg.id}/contacts`, `/segments/${seg.id}/transitions`, `/workflows/${wf.id}`, `/workflows/${wf.id}/versions`, `/workflows/${wf.id}/runs`, `/runs/${run.id}`, `/webhook-deliveries/${delivery.id}`]) {
      expect((await dash(s.url, session, path)).status, path).toBe(404);
    }
    // B's contact, with a segment enter and a run on its timeline, is not A's to read.
    expect((await dash(s.url, session, `/contacts/${run.contactId}`)).status).toBe(404);
    for (const path of [`/workflows/${wf.id}/pause`, `/webhook-deliveries/${delivery.id}/retry`]) {
      expect((await dash(s.url, session, path, { body: {} })).status, path).toBe(404);
    }
    expect((await b(`/v1/workflows/${wf.id}`)).body.workflow.status).toBe('active');
    expect((await b('/v1/webhook-deliveries?status=failed')).body.deliveries.items[0]).toEqual(delivery);
  });

  it("a session of workspace A sees neither B's webhook secret nor B's emails in the outbox, and rotates only its own", async () => {
    const a = await createUser(s.store, ['mail-a']);
    const keyB = await s.createKey('mail-b');
    const b = (path: string, opts: Parameters<typeof call>[1] = {}) => call(`${s.url}${path}`, { key: keyB, ...opts });
    const wf = await b('/v1/workflows', { body: { name: 'B mail', trigger: { event: 'b.mail' }, steps: [{ id: 'hi', type: 'email', subject: 'For B only', text: 'secret of b' }] } });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);
    expect((await b('/v1/events', { body: ev({ event: 'b.mail', identify: { email: 'mail-b@example.com' } }) })).status).toBe(200);
    await s.drain();
    const secretB = (await b('/v1/settings/webhook-secret')).body.secret;

    const session = await signIn(s.url, a.email);
    const ownSecret = (await dash(s.url, session, '/settings/webhook-secret')).body.secret;
    expect(ownSecret).toMatch(/^whsec_/);
    expect(ownSecret).not.toBe(secretB);
    expect((await dash(s.url, session, '/settings/webhook-secret/rotate', { body: {} })).status).toBe(200);
    expect((await b('/v1/settings/webhook-secret')).body.secret).toBe(secretB);

    // B's email is in the (server-wide) outbox directory, but not A's outbox.
    const fromB = readdirSync(outbox).filter((f) => f.endsWith('.eml'));
    expect(fromB.length).toBeGreaterThanOrEqual(1);
    const list = await dash(s.url, session, '/outbox');
    expect(list.status).toBe(200);
    expect(list.body.outbox.items).toEqual([]);
    for (const name of fromB) expect((await dash(s.url, session, `/outbox/${name}`)).status, name).toBe(404);
    // B's own session sees it.
    const sessionB = await signIn(s.url, (await createUser(s.store, ['mail-b'])).email);
    expect((await dash(s.url, sessionB, '/outbox')).body.outbox.items.map((i: { subject: string }) => i.subject)).toContain('For B only');
  });

  it('a user of two workspaces switches between them', async () => {
    const u = await createUser(s.store, ['sw-one', 'sw-two']);
    const session = await signIn(s.url, u.email);
    const two = session.body.workspaces.find((w: { name: string }) => w.name === 'sw-two');
    const r = await dash(s.url, session, '/workspace', { body: { workspaceId: two.id } });
    expect(r.status).toBe(200);
    expect((await dash(s.url, session, '/session')).body.workspace).toEqual(two);
  });

  it('a cross-site form POST is refused, and so is a POST without the CSRF token', async () => {
    const u = await createUser(s.store, ['default']);
    const session = await signIn(s.url, u.email);
    const form = await call(`${s.url}/dashboard/api/keys`, {
      method: 'POST',
      raw: 'name=evil',
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' },
    });
    expect(form.status).toBe(403);
    expect(form.body.code).toBe('FORBIDDEN');
    const fetchSite = await call(`${s.url}/dashboard/api/keys`, { body: { name: 'x' }, headers: { cookie: session.cookie, 'x-csrf-token': session.csrf, 'sec-fetch-site': 'cross-site' } });
    expect(fetchSite.status).toBe(403);
    const noToken = await call(`${s.url}/dashboard/api/keys`, { body: { name: 'x' }, headers: { cookie: session.cookie } });
    expect(noToken.status).toBe(403);
    const wrongToken = await call(`${s.url}/dashboard/api/keys`, { body: { name: 'x' }, headers: { cookie: session.cookie, 'x-csrf-token': 'A'.repeat(43) } });
    expect(wrongToken.status).toBe(403);
    const signInCrossSite = await call(`${s.url}/dashboard/api/sign-in`, { body: { email: u.email, password: PASSWORD }, headers: { origin: 'http://evil.example' } });
    expect(signInCrossSite.status).toBe(403);
    const ok = await dash(s.url, session, '/keys', { body: { name: 'fine' }, headers: { origin: s.url } });
    expect(ok.status).toBe(201);
    expect(ok.body.secret).toMatch(/^sk_live_/);
  });

  it('wrong passwords are rate-limited per email, then even the right one is refused', async () => {
    const u = await createUser(s.store, ['default']);
    for (let i = 0; i < SIGN_IN_LIMITS.perEmail; i++) {
      const r = await call(`${s.url}/dashboard/api/sign-in`, { body: { email: u.email, password: 'wrong password' } });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: 'INVALID_CREDENTIALS', message: 'Email or password is incorrect' });
    }
    const limited = await call(`${s.url}/dashboard/api/sign-in`, { body: { email: u.email, password: PASSWORD } });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // An unknown email gets the same answer as a wrong password.
    const unknown = await call(`${s.url}/dashboard/api/sign-in`, { body: { email: 'nobody-here@example.com', password: PASSWORD } });
    expect(unknown.body).toMatchObject({ statusCode: 401, code: 'INVALID_CREDENTIALS' });
  });

  it('sign-out ends the session', async () => {
    const u = await createUser(s.store, ['default']);
    const session = await signIn(s.url, u.email);
    const out = await dash(s.url, session, '/sign-out', { body: {} });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await dash(s.url, session, '/session')).status).toBe(401);
  });

  it('the one-time sign-in link creates the first user once', async () => {
    const fresh = await startTestServer();
    try {
      const link = await mintSetupLink(fresh.store.users, fresh.url, Date.now());
      expect(link).toMatch(/\/setup#token=[\w-]{43}$/);
      const token = link!.split('#token=')[1];
      const r = await call(`${fresh.url}/dashboard/api/setup`, { body: { token, email: 'First@Example.com', password: PASSWORD } });
      expect(r.status).toBe(200);
      expect(r.body.user.email).toBe('first@example.com');
      expect(r.body.workspace.name).toBe('default');
      const again = await call(`${fresh.url}/dashboard/api/setup`, { body: { token, email: 'second@example.com', password: PASSWORD } });
      expect(again.status).toBe(401);
      expect(await mintSetupLink(fresh.store.users, fresh.url, Date.now())).toBeNull(); // a user exists now
      await signIn(fresh.url, 'first@example.com');
    } finally {
      await fresh.close();
    }
  });

  it('unknown paths stay JSON 404s; the UI paths answer HTML', async () => {
    const r = await call(`${s.url}/nope`);
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('NOT_FOUND');
    for (const path of ['/live', '/failed', '/segments/seg_x', '/workflows/wf_x', '/runs/run_x', '/deliveries', '/deliveries/dlv_x']) {
      const page = await fetch(`${s.url}${path}`);
      expect(page.status, path).toBe(200);
      expect(page.headers.get('content-type'), path).toContain('text/html');
    }
    const traversal = await call(`${s.url}/assets/..%2F..%2Fpackage.json`);
    expect([400, 403, 404]).toContain(traversal.status);
    expect(traversal.text).not.toContain('smashsend-events-server');
  });
});
