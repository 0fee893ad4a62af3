/**
 * Transitions reach SegmentTransitionListeners once per transition even when the membership
 * stage runs twice over the same events (a retried pipeline job), and again with the same id
 * when a listener fails (at-least-once: listeners dedup on the id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing/eventually.js';
import type { JobContext } from '../src/processing/job-kind.js';
import type { SegmentTransition } from '../src/segments/segment-links.js';
import { SegmentsModule } from '../src/segments/segments.module.js';
import { call } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
const got: SegmentTransition[] = [];
let failNext = 0;

beforeAll(async () => {
  s = await startTestServer({
    env: { WORKER_RETRY_BASE_MS: '10' },
    segmentLinks: {
      listeners: [
        {
          name: 'test',
          async onTransitions(t) {
            got.push(...t);
            if (failNext > 0) {
              failNext--;
              throw new Error('listener down');
            }
          },
        },
      ],
    },
  });
});
afterAll(async () => {
  await s.close();
});

const api = (path: string, body?: unknown) => call(`${s.url}${path}`, { key: s.key, ...(body !== undefined ? { body } : {}) });

describe('segment transitions delivery', () => {
  it('a stage run twice over the same events counts once and delivers each enter once', async () => {
    const seg = (await api('/v1/segments', { name: 'twice', rule: { performed: 'buy', count: { gte: 2 } } })).body.segment;
    await api('/v1/events', { event: 'buy', identify: { email: 'd@example.com' }, messageId: 'd1' });
    await api('/v1/events', { event: 'buy', identify: { email: 'd@example.com' }, messageId: 'd2' });
    await s.drain();
    const enters = got.filter((t) => t.segmentId === seg.id && t.on === 'enter');
    expect(enters).toHaveLength(1);
    // The same events through the stage again (what a retried pipeline job does).
    const ws = enters[0]!.workspaceId;
    const events = (await s.store.events.list({ workspaceId: ws, email: 'd@example.com', limit: 10 })).items.reverse();
    const stage = new SegmentsModule({ store: s.store }).stage();
    const ctx: JobContext = { now: Date.now(), log: s.server.app.log as never, enqueue: (j) => s.store.jobs.enqueue(j, Date.now()) };
    await stage.handle(events, ctx, { key: 'retried' });
    await stage.handle(events, ctx, { key: 'retried' });
    await s.drain();
    expect(got.filter((t) => t.segmentId === seg.id)).toHaveLength(1);
    const [count] = await s.store.segments.countHits(enters[0]!.contactId, [{ nodeKey: JSON.stringify({ performed: 'buy' }), since: -Infinity }]);
    expect(count!.count).toBe(2);
  });

  it('a failing listener gets the same transition again (same id) until it succeeds', async () => {
    const seg = (await api('/v1/segments', { name: 'vip', rule: { property: 'contact.vip', op: 'eq', value: true } })).body.segment;
    failNext = 1;
    await api('/v1/events', { event: 'x', identify: { email: 'f@example.com', traits: { vip: true } }, messageId: 'f1' });
    await s.drain();
    // The retry runs after its backoff (10 ms base).
    await eventually(async () => {
      await s.drain();
      return got.filter((t) => t.segmentId === seg.id).length >= 2;
    }, { timeoutMs: 5000, intervalMs: 20 });
    const mine = got.filter((t) => t.segmentId === seg.id);
    expect(mine).toHaveLength(2);
    expect(mine[0]!.id).toBe(mine[1]!.id);
  });
});
