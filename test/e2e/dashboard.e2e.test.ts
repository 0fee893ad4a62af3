/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core (never a
 * downloaded browser). Signs in, creates a key on Settings → API and sends events with it,
 * sees them in the live view (a rejected one with its error), opens the contact, and sees the
 * overview chart draw. Then a workflow whose webhook fails (a local receiver answering 500): its
 * failed delivery is opened and retried from the dashboard (the receiver answers 200 by then)
 * and seen to succeed; the segments and workflows pages show theirs. Then a second failed
 * delivery is retried from the Failed page, the contact's timeline shows its event, segment
 * enter and run, the workflow page its two versions, and Settings reveals and rotates the
 * webhook signing secret; the event catalogue shows a drifting property and the tracking plan's flagged events. Screenshots go to test/e2e/artifacts/ (and docs/dashboard.png, for the
 * README, when SMASHSEND_UPDATE_SCREENSHOT=1).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, PASSWORD } from '../../src/testing/dashboard.js';
import { call, ev } from '../../src/testing/http.js';
import { startTestServer, type TestServer } from '../../src/testing/test-server.js';
import { ROOT } from '../../src/testing/cli.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test', 'e2e', 'artifacts');
const built = existsSync(join(ROOT, 'packages', 'dashboard', 'dist', 'index.html'));

let s: TestServer;
let browser: BrowserContext;
let page: Page;
let profile: string;
/** The webhook destination of the second test: answers `hookAnswer`. */
let receiver: Server;
let hookAnswer = 500;

describe.skipIf(!existsSync(CHROMIUM) || !built)('dashboard in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(hookAnswer).end(hookAnswer === 200 ? 'thanks' : 'receiver is down')));
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    // One retry, at once: the delivery is failed within a second.
    s = await startTestServer({ backgroundWorker: true, env: { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_SCHEDULE: '0' } });
    profile = mkdtempSync(join(tmpdir(), 'smashsend-chromium-'));
    // A fresh user-data dir per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-background-networking'],
      viewport: { width: 1280, height: 800 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  });
  afterAll(async () => {
    await browser?.close();
    await s?.close();
    receiver?.closeAllConnections();
    await new Promise((r) => receiver?.close(r));
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('sign in, create a key, see events live, open the contact, see the chart', async () => {
    const user = await createUser(s.store, ['default']);
    await page.goto(`${s.url}/sign-in`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await page.screenshot({ path: join(ARTIFACTS, 'overview-empty.png') });

    // Settings → API: a key, shown once, used below by this test.
    await nav.getByRole('link', { name: 'Settings → API' }).click();
    await page.getByLabel('Key name').fill('e2e');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-secret').textContent())!;
    expect(secret).toMatch(/^sk_live_/);
    await page.getByRole('cell', { name: 'e2e' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'settings-api.png') });

    // Live events: accepted, duplicate and rejected, within 2 s of sending.
    await nav.getByRole('link', { name: 'Live events' }).click();
    await page.getByText('● live').waitFor();
    const sent = Date.now();
    const event = ev({ event: 'user.signup', messageId: 'e2e-1', identify: { email: 'jane@example.com', traits: { firstName: 'Jane', plan: 'pro' } } });
    expect((await call(`${s.url}/v1/events`, { key: secret, body: event })).status).toBe(200);
    expect((await call(`${s.url}/v1/events`, { key: secret, body: event })).body.duplicate).toBe(true);
    expect((await call(`${s.url}/v1/events`, { key: secret, body: ev({ event: 'user.signup', identify: { email: 'not-an-email' } }) })).status).toBe(400);
    const live = page.getByTestId('live');
    await live.locator('tr.rejected').filter({ hasText: 'INVALID_EMAIL' }).waitFor({ timeout: 2000 });
    await live.locator('tr.duplicate').waitFor({ timeout: 2000 });
    await live.locator('tr.accepted').filter({ hasText: 'jane@example.com' }).waitFor({ timeout: 2000 });
    expect(Date.now() - sent).toBeLessThan(2500);
    expect(await live.locator('tr.rejected').textContent()).toContain('"identify.email" must be a valid email');
    await page.screenshot({ path: join(ARTIFACTS, 'live.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'live-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });

    // The contact, once processed: its properties and timeline.
    await expect.poll(async () => (await s.store.events.get((await s.store.keys.ensureWorkspace('default', 0)).id, 'e2e-1'))?.status, { timeout: 10_000 }).toBe('processed');
    await nav.getByRole('link', { name: 'Contacts' }).click();
    await page.getByRole('link', { name: 'jane@example.com' }).click();
    const props = page.getByTestId('properties');
    await props.getByRole('cell', { name: 'firstName' }).waitFor();
    expect(await props.textContent()).toContain('"Jane"');
    // Provenance: firstName was set by the event e2e-1 (linked), email by nothing but identity.
    const firstName = props.getByRole('row').filter({ hasText: 'firstName' });
    expect(await firstName.getByRole('link').textContent()).toBe('e2e-1');
    expect(await page.getByTestId('timeline').textContent()).toContain('user.signup');
    await page.screenshot({ path: join(ARTIFACTS, 'contact.png') });

    // Overview: the chart draws (uPlot renders a canvas) from /v1/stats-backed counters.
    await nav.getByRole('link', { name: 'Overview' }).click();
    const chart = page.getByTestId('chart');
    await chart.locator('canvas').waitFor();
    expect(await page.locator('.totals').textContent()).toMatch(/1\s*accepted.*1\s*duplicate.*1\s*rejected/);
    expect(await page.getByTestId('processing').textContent()).toMatch(/\d+ waiting, lag \d+\.\d s/);
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png') });
    if (process.env.SMASHSEND_UPDATE_SCREENSHOT === '1') await page.screenshot({ path: join(ROOT, 'docs', 'dashboard.png') });

    // Keyboard: on a fresh load the skip link is the first stop, then the navigation.
    await page.reload();
    await page.getByTestId('chart').locator('canvas').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('per minute');
  });

  it('a failed webhook delivery is retried from the dashboard and succeeds; segments and workflows pages', async () => {
    await browser.clearCookies();
    const user = await createUser(s.store, ['default']);
    await page.goto(`${s.url}/`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });

    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const seg = await call(`${s.url}/v1/segments`, { key: s.key, body: { name: 'Hooked', rule: { property: 'contact.plan', op: 'eq', value: 'hook' } } });
    expect(seg.status, JSON.stringify(seg.body)).toBe(201);
    const wf = await call(`${s.url}/v1/workflows`, { key: s.key, body: { name: 'Notify CRM', trigger: { event: 'crm.sync' }, steps: [{ id: 'notify', type: 'webhook', url: hookUrl }] } });
    expect(wf.status, JSON.stringify(wf.body)).toBe(201);
    expect((await call(`${s.url}/v1/events`, { key: s.key, body: ev({ event: 'crm.sync', identify: { email: 'crm@example.com', traits: { plan: 'hook' } } }) })).status).toBe(200);

    // Segments: the list with its count, then the segment with its member and the transition.
    await nav.getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('heading', { name: 'Segments' }).waitFor();
    await page.getByRole('link', { name: 'Hooked' }).click();
    await page.getByRole('heading', { name: /Hooked/ }).waitFor();
    await expect
      .poll(async () => {
        await page.reload();
        await page.getByRole('heading', { name: 'Members' }).waitFor();
        await page.getByRole('heading', { name: 'Recent transitions' }).waitFor();
        await page.locator('[role=status]').first().waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
        return (await page.getByTestId('members').count()) > 0 && (await page.getByTestId('transitions').count()) > 0;
      }, { timeout: 15_000 })
      .toBe(true);
    expect(await page.getByTestId('members').textContent()).toContain('crm@example.com');
    expect(await page.getByTestId('transitions').textContent()).toMatch(/entered\s*crm@example\.com/);
    await page.screenshot({ path: join(ARTIFACTS, 'segment.png') });
    await nav.getByRole('link', { name: 'Segments' }).click();
    expect(await page.getByTestId('segments').getByRole('row').filter({ hasText: 'Hooked' }).textContent()).toMatch(/ready\s*1/);

    // Workflows: the list, pause and activate again, the workflow with its run.
    await nav.getByRole('link', { name: 'Workflows' }).click();
    const row = page.getByTestId('workflows').getByRole('row').filter({ hasText: 'Notify CRM' });
    await row.getByRole('button', { name: 'Pause Notify CRM' }).focus();
    await page.keyboard.press('Enter');
    await row.getByText('paused').waitFor();
    // The row is updated in place: the focus stays on its button, now "Activate".
    expect(await page.evaluate('document.activeElement && document.activeElement.getAttribute("aria-label")')).toBe('Activate Notify CRM');
    await row.getByRole('button', { name: 'Activate Notify CRM' }).click();
    await row.getByText('active').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'workflows.png') });

    // The failed delivery (500, then 500 on its one retry), found by its status.
    const wsId = (await s.store.keys.ensureWorkspace('default', 0)).id;
    await expect.poll(async () => (await s.store.deliveries.list({ workspaceId: wsId, status: 'failed', limit: 1 })).length, { timeout: 15_000 }).toBe(1);
    await nav.getByRole('link', { name: 'Webhook deliveries' }).click();
    await page.getByLabel('Status').selectOption('failed');
    const failedRow = page.getByTestId('deliveries').locator('tr.failed').filter({ hasText: hookUrl });
    expect(await failedRow.textContent()).toContain('500');
    await failedRow.getByRole('link').click();
    await page.getByTestId('delivery-status').filter({ hasText: 'failed' }).waitFor();
    const attempts = page.getByTestId('attempts');
    expect(await attempts.locator('tbody tr').count()).toBe(2);
    expect(await attempts.textContent()).toContain('receiver is down');
    expect(await attempts.textContent()).toMatch(/500.*\d+ ms/);
    await page.screenshot({ path: join(ARTIFACTS, 'delivery-failed.png') });

    // Retry, from the keyboard; the receiver is back.
    hookAnswer = 200;
    await page.getByRole('button', { name: 'Retry' }).focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('delivery-status').filter({ hasText: 'succeeded' }).waitFor({ timeout: 15_000 });
    expect(await page.evaluate('document.activeElement && document.activeElement.getAttribute("role")')).toBe('status');
    expect(await page.getByRole('status').textContent()).toBe('Delivered, in 3 attempts.');
    expect(await attempts.locator('tbody tr').count()).toBe(3);
    expect(await attempts.textContent()).toContain('thanks');
    expect(await page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'delivery-retried.png') });

    // Its run, per step: the webhook step completed once the delivery succeeded.
    await page.getByRole('link', { name: /^run_/ }).click();
    await expect
      .poll(async () => {
        await page.reload();
        return page.getByTestId('steps').getByRole('row').filter({ hasText: 'notify' }).textContent();
      }, { timeout: 10_000 })
      .toContain('completed');
    await page.getByRole('link', { name: '← Workflow' }).click();
    await page.getByTestId('runs').getByRole('link', { name: /^run_/ }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'workflow.png') });
  });

  it('Failed page Retry from the keyboard; the contact timeline; workflow versions; the webhook secret revealed and rotated', async () => {
    // Signed in by the test before: the session cookie is still there.
    await page.goto(`${s.url}/`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    hookAnswer = 500;
    const wf = (await call(`${s.url}/v1/workflows`, { key: s.key, body: { name: 'Failing hook', trigger: { event: 'fail.sync' }, steps: [{ id: 'notify', type: 'webhook', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/fail` }] } })).body.workflow;
    expect((await call(`${s.url}/v1/events`, { key: s.key, body: ev({ event: 'fail.sync', identify: { email: 'fail@example.com', traits: { plan: 'hook' } } }) })).status).toBe(200);
    const wsId = (await s.store.keys.ensureWorkspace('default', 0)).id;
    await expect.poll(async () => (await s.store.deliveries.list({ workspaceId: wsId, status: 'failed', workflowId: wf.id, limit: 1 })).length, { timeout: 15_000 }).toBe(1);

    // Failed: the delivery with Retry; the row is updated in place and the button keeps the focus.
    await nav.getByRole('link', { name: 'Failed' }).click();
    await page.getByRole('heading', { name: 'Failed', exact: true }).waitFor();
    const row = page.getByTestId('failed-deliveries').locator('tr').filter({ hasText: '/fail' });
    await row.waitFor();
    hookAnswer = 200;
    await row.getByRole('button', { name: /^Retry delivery/ }).focus();
    await page.keyboard.press('Enter');
    await row.getByText('pending').waitFor();
    expect(await page.evaluate('document.activeElement && document.activeElement.getAttribute("aria-label")')).toMatch(/^Retried delivery dlv_/);
    await page.screenshot({ path: join(ARTIFACTS, 'failed.png') });

    // The contact's timeline: its event, its segment enter, its run with the step.
    await expect.poll(async () => (await s.store.deliveries.list({ workspaceId: wsId, status: 'succeeded', workflowId: wf.id, limit: 1 })).length, { timeout: 15_000 }).toBe(1);
    await nav.getByRole('link', { name: 'Contacts' }).click();
    await page.getByRole('link', { name: 'fail@example.com' }).click();
    const timeline = page.getByTestId('timeline');
    await timeline.waitFor();
    await expect.poll(async () => {
      await page.reload();
      await timeline.waitFor();
      return timeline.textContent();
    }, { timeout: 10_000 }).toMatch(/segment\s*entered\s*Hooked/);
    const text = (await timeline.textContent())!;
    expect(text).toContain('fail.sync');
    expect(text).toMatch(/workflow\s*Failing hook/);
    expect(text).toMatch(/notify\s*completed/);
    await page.getByLabel('Segments').uncheck();
    expect(await timeline.textContent()).not.toContain('Hooked');
    await page.screenshot({ path: join(ARTIFACTS, 'contact-timeline.png') });

    // Workflow versions: a second version, both listed, each definition behind a disclosure.
    expect((await call(`${s.url}/v1/workflows/${wf.id}`, { key: s.key, method: 'PUT', body: { name: 'Failing hook v2', trigger: { event: 'fail.sync' }, steps: [{ id: 'notify2', type: 'webhook', url: 'https://example.com/x' }] } })).status).toBe(200);
    await page.goto(`${s.url}/workflows/${wf.id}`);
    const versions = page.getByTestId('versions');
    await versions.waitFor();
    expect(await versions.locator('summary').allTextContents()).toEqual([expect.stringMatching(/^Version 2 \(current\)/), expect.stringMatching(/^Version 1 ·/)]);
    await versions.locator('summary').nth(1).focus();
    await page.keyboard.press('Enter');
    expect(await versions.locator('details').nth(1).textContent()).toContain('"notify"');

    // Settings: the webhook secret masked, revealed, then rotated (the public API sees the new one).
    await nav.getByRole('link', { name: 'Settings → API' }).click();
    const secret = page.getByTestId('webhook-secret');
    await secret.waitFor();
    const before = (await call(`${s.url}/v1/settings/webhook-secret`, { key: s.key })).body.secret;
    expect(await secret.textContent()).not.toBe(before);
    expect(await secret.textContent()).toMatch(/^whsec_•+/);
    await page.getByRole('button', { name: 'Reveal' }).click();
    expect(await secret.textContent()).toBe(before);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Rotate' }).click();
    await page.getByText(/Rotated\. Webhooks carry both signatures/).waitFor();
    const after = (await call(`${s.url}/v1/settings/webhook-secret`, { key: s.key })).body.secret;
    expect(after).not.toBe(before);
    expect(await secret.textContent()).toBe(after);
    expect(await page.getByTestId('mail-settings').textContent()).toContain('SMTP_URL is not set');
    await page.screenshot({ path: join(ARTIFACTS, 'settings-secret.png'), fullPage: true });
  });

  it('the event catalogue lists what was sent and highlights a drifting property', async () => {
    const send = (plan: unknown, id: string) => call(`${s.url}/v1/events`, { key: s.key, body: ev({ event: 'plan.chosen', messageId: id, properties: { plan, cart: { items: 2 } } }) });
    expect((await send('pro', 'cat-1')).status).toBe(200);
    expect((await send(3, 'cat-2')).status).toBe(200);
    await expect
      .poll(async () => (await call(`${s.url}/v1/catalog/events`, { key: s.key })).body.events.find((e: { name: string }) => e.name === 'plan.chosen')?.count, { timeout: 10_000 })
      .toBe(2);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Event catalogue' }).click();
    await page.getByRole('heading', { name: 'Event catalogue' }).waitFor();
    const entry = page.getByTestId('catalog-event').filter({ hasText: 'plan.chosen' });
    expect(await entry.locator('summary').textContent()).toMatch(/2 events.*1 with drifting types/);
    await entry.locator('summary').click();
    expect(await entry.locator('tr.drift').textContent()).toMatch(/^plan\s*string\s*number/);
    expect(await entry.getByRole('row').filter({ hasText: 'cart.items' }).textContent()).toContain('number');
    await page.screenshot({ path: join(ARTIFACTS, 'catalog.png'), fullPage: true });
  });

  it('segments, members, workflows, runs and deliveries page with Load more (the API\'s cursor), 50 at a time', async () => {
    hookAnswer = 200;
    const pub = (path: string, body?: unknown) => call(`${s.url}${path}`, { key: s.key, ...(body ? { body } : {}) });
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/paged`;
    const wf = (await pub('/v1/workflows', { name: 'Paged', trigger: { event: 'paged.run' }, steps: [{ id: 'notify', type: 'webhook', url: hook }] })).body.workflow;
    const seg = (await pub('/v1/segments', { name: 'Paged members', rule: { property: 'contact.plan', op: 'eq', value: 'paged' } })).body.segment;
    await Promise.all(Array.from({ length: 50 }, (_, i) => pub('/v1/workflows', { name: `Filler ${i}`, trigger: { event: `filler.${i}` }, steps: [{ id: 'w', type: 'wait', duration: '1h' }] })));
    await Promise.all(Array.from({ length: 50 }, (_, i) => pub('/v1/segments', { name: `Filler ${i}`, rule: { property: 'contact.filler', op: 'eq', value: i } })));
    const events = Array.from({ length: 51 }, (_, i) => ev({ event: 'paged.run', messageId: `paged-${i}`, identify: { email: `paged-${i}@example.com`, traits: { plan: 'paged' } } }));
    expect((await pub('/v1/events/batch', { events })).body.accepted).toBe(51);
    const count = async (path: string, key: string) => (await pub(`${path}${path.includes('?') ? '&' : '?'}limit=100`)).body[key].items.length;
    await expect.poll(() => count(`/v1/webhook-deliveries?workflowId=${wf.id}&status=succeeded`, 'deliveries'), { timeout: 20_000 }).toBe(51);
    await expect.poll(() => count(`/v1/segments/${seg.id}/contacts`, 'contacts'), { timeout: 20_000 }).toBe(51);
    const totals = { workflows: await count('/v1/workflows', 'workflows'), segments: await count('/v1/segments', 'segments') };
    expect(totals.workflows).toBeGreaterThan(50);
    expect(totals.segments).toBeGreaterThan(50);

    /** 50 rows, then Load more shows the rest below them (the first row stays), then no button. */
    const pages = async (rows: () => ReturnType<Page['locator']>, noun: string, total: number) => {
      await rows().nth(49).waitFor();
      expect(await rows().count()).toBe(50);
      const first = await rows().first().textContent();
      await page.getByRole('button', { name: `Load more ${noun}` }).click();
      await rows().nth(total - 1).waitFor();
      expect(await rows().count()).toBe(total);
      expect(await rows().first().textContent()).toBe(first);
      expect(await page.getByRole('button', { name: `Load more ${noun}` }).count()).toBe(0);
    };
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Workflows' }).click();
    await pages(() => page.getByTestId('workflows').locator('tbody tr'), 'workflows', totals.workflows);
    await nav.getByRole('link', { name: 'Segments' }).click();
    await pages(() => page.getByTestId('segments').locator('tbody tr'), 'segments', totals.segments);

    await page.goto(`${s.url}/segments/${seg.id}`);
    await pages(() => page.getByTestId('members').locator('li'), 'members', 51);
    await page.goto(`${s.url}/workflows/${wf.id}`);
    await pages(() => page.getByTestId('runs').locator('tbody tr'), 'runs', 51);
    await page.goto(`${s.url}/deliveries?workflowId=${wf.id}`);
    await pages(() => page.getByTestId('deliveries').locator('tbody tr'), 'deliveries', 51);
    // A filter starts again from the first page.
    await page.getByLabel('Status').selectOption('failed');
    await page.getByText('No failed deliveries').waitFor();
  });

  it('the live view shows each event\'s source and filters by it; the event page names it', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Live events' }).click();
    await page.getByText('● live').waitFor();
    const auth = { authorization: `Basic ${Buffer.from(`${s.key}:`).toString('base64')}` };
    expect((await call(`${s.url}/v1/track`, { headers: auth, body: { userId: 'seg-e2e@example.com', event: 'Viewed', messageId: 'src-e2e-seg' } })).status).toBe(200);
    expect((await call(`${s.url}/v1/events`, { key: s.key, body: ev({ event: 'src.api', messageId: 'src-e2e-api', identify: { email: 'api-e2e@example.com' } }) })).status).toBe(200);
    const live = page.getByTestId('live');
    const segRow = live.locator('tr.accepted').filter({ hasText: 'seg-e2e@example.com' });
    const apiRow = live.locator('tr.accepted').filter({ hasText: 'api-e2e@example.com' });
    await segRow.waitFor({ timeout: 2000 });
    await apiRow.waitFor({ timeout: 2000 });
    expect(await segRow.getByRole('cell', { name: 'Segment', exact: true }).count()).toBe(1);
    expect(await apiRow.getByRole('cell', { name: 'API', exact: true }).count()).toBe(1);
    await page.getByLabel('Source').selectOption('segment');
    await apiRow.waitFor({ state: 'detached' });
    expect(await segRow.count()).toBe(1);
    await page.getByLabel('Source').selectOption('api');
    await segRow.waitFor({ state: 'detached' });
    await apiRow.waitFor();
    await page.getByLabel('Source').selectOption('');
    await segRow.getByRole('link', { name: 'Viewed' }).click();
    await page.getByTestId('event-source').waitFor();
    expect(await page.getByTestId('event-source').textContent()).toBe('Segment-compatible API');
  });

  it('the catalogue page shows the tracking plan and its flagged events; the event page shows the violation', async () => {
    const plan = { mode: 'warn', events: [{ name: 'plan.flagged', properties: { type: 'object', required: ['total'], properties: { total: { type: 'number' } } } }] };
    expect((await call(`${s.url}/v1/tracking-plan`, { method: 'PUT', key: s.key, body: plan })).status).toBe(200);
    expect((await call(`${s.url}/v1/events`, { key: s.key, body: ev({ event: 'plan.flagged', messageId: 'tp-e2e-1', properties: { total: 'twelve' } }) })).status).toBe(200);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Event catalogue' }).click();
    await page.getByRole('heading', { name: 'Event catalogue' }).waitFor();
    await page.getByRole('button', { name: 'Refresh' }).last().click();
    const section = page.getByTestId('tracking-plan');
    await section.getByText('Warn mode', { exact: true }).waitFor();
    expect(await section.locator('summary').first().textContent()).toMatch(/version 1, 1 entries/);
    const row = section.getByTestId('violation-counts').getByRole('row').filter({ hasText: 'plan.flagged' });
    expect(await row.textContent()).toMatch(/plan\.flagged\s*type\s*properties\.total\s*1/);
    await page.screenshot({ path: join(ARTIFACTS, 'tracking-plan.png'), fullPage: true });
    await row.getByRole('link', { name: 'tp-e2e-1' }).click();
    await page.getByRole('heading', { name: 'Tracking plan violations' }).waitFor();
    expect(await page.getByTestId('violations').textContent()).toContain('properties.total must be number');
  });
});
