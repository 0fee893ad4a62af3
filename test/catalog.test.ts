/**
 * The event catalogue (GET /v1/catalog/events, the dashboard's copy, `smashsend catalog
 * export`) over a mixed load: single and batch events, Segment track calls, duplicates and
 * rejected events (not counted), nested properties and drifting types; exact counts when a
 * processed batch's stage job runs again; and what the stage costs per event.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATALOG_STAGE, CatalogStage } from '../src/catalog/catalog.stage.js';
import { moduleProcessing } from '../src/cli/compose.js';
import type { JobContext } from '../src/processing/job-kind.js';
import type { Job } from '../src/processing/job-queue.port.js';
import { PIPELINE_KIND, pipelineKind } from '../src/processing/stages.js';
import { runCli } from '../src/testing/cli.js';
import { createUser, dash, signIn } from '../src/testing/dashboard.js';
import { call, ev } from '../src/testing/http.js';
import { join, mkdtempSync, rmSync, startTestServer, tmpdir, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let dir: string;
beforeAll(async () => {
  s = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'catalog-'));
});
afterAll(async () => {
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

const catalog = async (key: string) => {
  const r = await call(`${s.url}/v1/catalog/events`, { key });
  expect(r.status).toBe(200);
  return r.body as { events: { name: string; firstSeen: string; lastSeen: string; count: number; propertiesTruncated: boolean; properties: { path: string; types: string[] }[] }[] };
};

describe('event catalogue', () => {
  it('catalogues a mixed load: counts only accepted events, infers types, shows drift, nests paths', async () => {
    const key = await s.createKey('mixed');
    const before = Date.now();
    const send = (body: unknown) => call(`${s.url}/v1/events`, { key, body });
    expect((await send(ev({ event: 'order.completed', messageId: 'o1', properties: { total: 12.5, currency: 'EUR', items: ['a', 'b'], cart: { size: 2, coupon: null } } }))).status).toBe(200);
    expect((await send(ev({ event: 'order.completed', messageId: 'o2', properties: { total: '12.50', currency: 'EUR', gift: true } }))).status).toBe(200);
    // A duplicate (same messageId) and a rejected event: neither is counted.
    expect((await send(ev({ event: 'order.completed', messageId: 'o1', properties: { total: 12.5 } }))).body.duplicate).toBe(true);
    expect((await send(ev({ event: 'bad name!', messageId: 'r1' }))).status).toBe(400);
    const batch = await call(`${s.url}/v1/events/batch`, {
      key,
      body: {
        events: [
          ev({ event: 'page.view', messageId: 'p1', properties: { path: '/a' } }),
          ev({ event: 'page.view', messageId: 'p2', properties: { path: '/b', referrer: { host: 'x.example', utm: { source: 'ad' } } } }),
          ev({ event: 'page.view', messageId: 'p1' }), // duplicate within the batch
          ev({ event: 'page view', messageId: 'p3' }), // rejected
          ev({ event: 'order.completed', messageId: 'o3', properties: { total: 99, currency: null, cart: 'none' } }),
        ],
      },
    });
    expect(batch.status).toBe(207);
    expect(batch.body).toMatchObject({ accepted: 3, failed: 1, duplicated: 1 });
    // Segment-compatible track: "Signed Up" becomes Signed_Up.
    const basic = `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
    expect((await call(`${s.url}/v1/track`, { body: { event: 'Signed Up', userId: 'u@example.com', properties: { plan: 'pro', seats: 3 } }, headers: { authorization: basic } })).status).toBe(200);
    await s.drain();

    const { events } = await catalog(key);
    expect(events.map((e) => [e.name, e.count])).toEqual([
      ['Signed_Up', 1],
      ['order.completed', 3],
      ['page.view', 2],
    ]);
    const order = events.find((e) => e.name === 'order.completed')!;
    expect(order.properties).toEqual([
      { path: 'cart', types: ['string', 'object'] },
      { path: 'cart.coupon', types: ['null'] },
      { path: 'cart.size', types: ['number'] },
      { path: 'currency', types: ['string', 'null'] },
      { path: 'gift', types: ['boolean'] },
      { path: 'items', types: ['array'] },
      { path: 'total', types: ['string', 'number'] },
    ]);
    expect(order.propertiesTruncated).toBe(false);
    expect(events.find((e) => e.name === 'page.view')!.properties).toEqual([
      { path: 'path', types: ['string'] },
      { path: 'referrer', types: ['object'] },
      { path: 'referrer.host', types: ['string'] },
      { path: 'referrer.utm', types: ['object'] },
      { path: 'referrer.utm.source', types: ['string'] },
    ]);
    expect(events.find((e) => e.name === 'Signed_Up')!.properties).toEqual([
      { path: 'plan', types: ['string'] },
      { path: 'seats', types: ['number'] },
    ]);
    // Seen: the receipt times, first <= last, within the test.
    for (const e of events) {
      expect(Date.parse(e.firstSeen)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(e.lastSeen)).toBeGreaterThanOrEqual(Date.parse(e.firstSeen));
      expect(Date.parse(e.lastSeen)).toBeLessThanOrEqual(Date.now());
    }
    // Another workspace sees none of it.
    expect((await catalog(s.key)).events.filter((e) => e.name === 'order.completed')).toEqual([]);
  });

  it('counts a processed batch once when its stage job runs again', async () => {
    const key = await s.createKey('rerun');
    const ws = (await s.store.keys.ensureWorkspace('rerun', 0)).id;
    expect((await call(`${s.url}/v1/events/batch`, { key, body: { events: [ev({ event: 'again', messageId: 'a1', properties: { n: 1 } }), ev({ event: 'again', messageId: 'a2', properties: { n: 'x' } })] } })).status).toBe(200);
    await s.drain();
    expect((await catalog(key)).events).toMatchObject([{ name: 'again', count: 2 }]);
    // The pipeline job of that merge commit, run again as a lost completion would (its key is
    // `merge:<lowest seq>`, queue-store's followUp), through the real pipeline kind.
    const stored = (await s.store.events.list({ workspaceId: ws, limit: 10 })).items.sort((a, b) => a.seq - b.seq);
    const seqs = stored.map((e) => e.seq);
    const job: Job = { id: 1, kind: PIPELINE_KIND, key: `merge:${seqs[0]}`, payload: { seqs }, status: 'queued', runAt: 0, attempts: 1, maxAttempts: 10, lastError: null, createdAt: 0, finishedAt: null };
    const ctx: JobContext = { now: Date.now(), log: s.server.app.log as never, enqueue: (j) => s.store.jobs.enqueue(j, Date.now()) };
    const kind = pipelineKind({ queue: s.store.queue, stages: [new CatalogStage({ catalog: s.store.catalog })] });
    await kind.run(job, ctx);
    await kind.run(job, ctx);
    expect((await catalog(key)).events).toMatchObject([{ name: 'again', count: 2, properties: [{ path: 'n', types: ['string', 'number'] }] }]);
    // A batch the stage has not seen is counted (the key, not the events, is what is remembered).
    await kind.run({ ...job, key: 'merge:test-new' }, ctx);
    expect((await catalog(key)).events).toMatchObject([{ name: 'again', count: 4 }]);
  });

  it('runs as the last stage: once it has counted a batch, nothing after it can fail the job', async () => {
    const p = moduleProcessing({ config: s.config, store: s.store, log: s.server.app.log as never });
    try {
      expect(p.stages.map((x) => x.name).at(-1)).toBe(CATALOG_STAGE);
    } finally {
      await p.close();
    }
  });

  it('refuses unknown query parameters and answers 401 without a key', async () => {
    const r = await call(`${s.url}/v1/catalog/events?event=x`, { key: s.key });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'INVALID_QUERY' });
    expect((await call(`${s.url}/v1/catalog/events`)).status).toBe(401);
  });

  it('the dashboard shows the same catalogue to a session of the workspace', async () => {
    const key = await s.createKey('dash-cat');
    expect((await call(`${s.url}/v1/events`, { key, body: ev({ event: 'seen.here', properties: { a: 1 } }) })).status).toBe(200);
    await s.drain();
    const u = await createUser(s.store, ['dash-cat']);
    const session = await signIn(s.url, u.email);
    const r = await dash(s.url, session, '/catalog/events');
    expect(r.status).toBe(200);
    expect(r.body).toEqual(await catalog(key));
    expect(r.body.events.map((e: { name: string }) => e.name)).toEqual(['seen.here']);
    // A session of another workspace sees none of it.
    const other = await signIn(s.url, (await createUser(s.store, ['dash-cat-other'])).email);
    expect((await dash(s.url, other, '/catalog/events')).body).toEqual({ events: [] });
  });

  it('smashsend catalog export writes the JSON of the API to a file, or to stdout', async () => {
    const key = await s.createKey('export-ws');
    expect((await call(`${s.url}/v1/events`, { key, body: ev({ event: 'exported', properties: { v: [1] } }) })).status).toBe(200);
    await s.drain();
    const out = join(dir, 'catalog.json');
    const r = await runCli(['catalog', 'export', '--workspace', 'export-ws', '--out', out], { env: { DATABASE_URL: s.databaseUrl } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(out);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(await catalog(key));
    const stdout = await runCli(['catalog', 'export', '--workspace', 'export-ws'], { env: { DATABASE_URL: s.databaseUrl } });
    expect(stdout.status, stdout.stderr).toBe(0);
    expect(JSON.parse(stdout.stdout)).toMatchObject({ events: [{ name: 'exported', count: 1, properties: [{ path: 'v', types: ['array'] }] }] });
    const missing = await runCli(['catalog', 'export', '--workspace', 'nope'], { env: { DATABASE_URL: s.databaseUrl } });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no workspace "nope"');
    const help = await runCli(['catalog', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('smashsend catalog export [--workspace NAME] [--out FILE]');
    expect((await runCli(['catalog', 'import'])).status).toBe(2);
  });

  it('costs little per event: the stage time over a load of 4,000 events (reported)', async () => {
    const key = await s.createKey('cost');
    const names = ['product.viewed', 'cart.updated', 'checkout.started', 'order.completed'];
    for (let b = 0; b < 20; b++) {
      const events = Array.from({ length: 200 }, (_, i) => {
        const n = b * 200 + i;
        return ev({
          event: names[n % names.length],
          messageId: `c${n}`,
          identify: { email: `c${n % 50}@example.com` },
          properties: { sku: `sku-${n % 97}`, price: (n % 100) + 0.5, qty: n % 5, tags: ['a'], meta: { source: 'web', campaign: n % 2 ? 'x' : null } },
        });
      });
      expect((await call(`${s.url}/v1/events/batch`, { key, body: { events } })).status).toBe(200);
    }
    await s.drain();
    expect((await catalog(key)).events.map((e) => e.count)).toEqual([1000, 1000, 1000, 1000]);
    const metrics = (await call(`${s.url}/metrics`)).text;
    const value = (name: string) => Number(new RegExp(`^${name}\\{stage="catalog"\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    const seconds = value('smashsend_stage_seconds_total');
    const events = value('smashsend_stage_events_total');
    expect(events).toBeGreaterThanOrEqual(4000);
    const us = (seconds / events) * 1e6;
    console.log(`catalog stage: ${us.toFixed(1)} µs per event over ${events} events (${s.store.capabilities.dialect})`);
    expect(us).toBeLessThan(500);
  });
});
