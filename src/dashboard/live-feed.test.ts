/**
 * The live feed's drop paths: a browser that does not read its stream (the socket's unsent
 * bytes grow) is sent nothing more until it drains, then told how many events it was not
 * shown; a backlog beyond a page per poll is skipped and reported the same way.
 */
import { describe, expect, it } from 'vitest';
import type { AcceptedEvent, ActivityRecord } from '../activity/activity.port.js';
import { LiveFeed, type LiveOutput } from './live-feed.js';

const WS = 'ws_a';
const T0 = Date.UTC(2026, 0, 1);

/** The store as the feed sees it: events and activity rows by position, of one workspace. */
function fakeActivity() {
  const events: (AcceptedEvent & { workspaceId: string })[] = [];
  /** Positions taken by transactions not yet committed (PostgreSQL's out-of-order commits). */
  const held = new Map<number, AcceptedEvent & { workspaceId: string }>();
  const rows: ActivityRecord[] = [];
  let seq = 0;
  return {
    accept(n: number, workspaceId = WS) {
      for (let i = 0; i < n; i++) {
        seq++;
        events.push({ workspaceId, seq, messageId: `m-${seq}`, event: 'page.view', email: 'a@example.com', receivedAt: T0 + seq });
      }
    },
    /** Takes a position without committing: `commit(seq)` makes it visible later. */
    hold(workspaceId = WS) {
      seq++;
      held.set(seq, { workspaceId, seq, messageId: `m-${seq}`, event: 'page.view', email: 'a@example.com', receivedAt: T0 + seq });
      return seq;
    },
    commit(s: number) {
      events.push(held.get(s)!);
      held.delete(s);
      events.sort((a, b) => a.seq - b.seq);
    },
    reject(workspaceId = WS) {
      const id = rows.length + 1;
      rows.push({ id, workspaceId, at: T0 + 1_000 + id, kind: 'rejected', source: 'single', messageId: null, event: 'bad name!', email: null, errors: [{ code: 'INVALID_EVENT_NAME', message: 'bad' }] });
    },
    async positions() {
      return { eventSeq: seq, activityId: rows.length };
    },
    async acceptedAfter(ws: string, after: number, limit: number) {
      const items = events.filter((e) => e.workspaceId === ws && e.seq > after).slice(0, limit);
      const next = items.length === limit ? items[items.length - 1]!.seq : Math.max(after, ...events.map((e) => e.seq));
      const gaps: [number, number][] = [...held.keys()].filter((s) => s > after && s < next).map((s) => [s, s]);
      return gaps.length ? { items, next, gaps } : { items, next };
    },
    async acceptedIn(ws: string, ranges: [number, number][], limit: number) {
      return events.filter((e) => e.workspaceId === ws && ranges.some(([lo, hi]) => lo <= e.seq && e.seq <= hi)).slice(0, limit);
    },
    async activityAfter(ws: string, after: number, limit: number) {
      return rows.filter((r) => r.workspaceId === ws && r.id > after).slice(0, limit);
    },
  };
}

/** A response whose unsent bytes the test sets: `stalled` as a browser that stopped reading. */
function fakeOutput() {
  const out = { chunks: [] as string[], writableLength: 0, writableEnded: false, write: (c: string) => out.chunks.push(c) };
  return out satisfies LiveOutput;
}

function sse(chunks: string[]) {
  return chunks.flatMap((c) => {
    const m = /^event: (\w+)\ndata: (.*)\n\n$/s.exec(c);
    return m ? [{ event: m[1]!, data: JSON.parse(m[2]!) }] : [];
  });
}

describe('LiveFeed', () => {
  it('writes new items of its workspace only, oldest first', async () => {
    const store = fakeActivity();
    const out = fakeOutput();
    const feed = new LiveFeed(store, WS, out, await store.positions());
    store.accept(2);
    store.accept(1, 'ws_other');
    store.reject();
    await feed.tick();
    expect(sse(out.chunks).map((e) => [e.event, e.data.kind, e.data.messageId])).toEqual([
      ['item', 'accepted', 'm-1'],
      ['item', 'accepted', 'm-2'],
      ['item', 'rejected', null],
    ]);
  });

  it('a browser that stops reading gets nothing more until it drains, then how many it missed, then what is new', async () => {
    const store = fakeActivity();
    const out = fakeOutput();
    const feed = new LiveFeed(store, WS, out, await store.positions(), { page: 500, maxBufferedBytes: 1024, skipPages: 2 });
    store.accept(1);
    await feed.tick();
    expect(sse(out.chunks)).toHaveLength(1);

    out.writableLength = 1025; // the socket holds more than the limit: the browser is not reading
    store.accept(3);
    store.reject();
    await feed.tick();
    store.accept(2);
    await feed.tick();
    expect(sse(out.chunks)).toHaveLength(1); // nothing written meanwhile

    out.writableLength = 0; // drained
    store.accept(1);
    await feed.tick();
    const after = sse(out.chunks).slice(1);
    expect(after[0]).toEqual({ event: 'dropped', data: { count: 6 } });
    expect(after.slice(1).map((e) => e.data.messageId)).toEqual(['m-7']);

    // Counted once: the next poll reports nothing dropped.
    store.accept(1);
    await feed.tick();
    expect(sse(out.chunks).slice(3).map((e) => e.event)).toEqual(['item']);
  });

  it('a backlog of more than a page per poll is counted, not sent, and only its own workspace\'s events are counted', async () => {
    const store = fakeActivity();
    const out = fakeOutput();
    const feed = new LiveFeed(store, WS, out, await store.positions(), { page: 10, maxBufferedBytes: 1024 * 1024, skipPages: 2 });
    store.accept(40, 'ws_other');
    store.accept(25);
    store.accept(40, 'ws_other');
    await feed.tick();
    expect(sse(out.chunks).map((e) => e.data.messageId)).toEqual(Array.from({ length: 10 }, (_, i) => `m-${i + 41}`));
    store.accept(1);
    await feed.tick();
    const next = sse(out.chunks).slice(10);
    expect(next[0]).toEqual({ event: 'dropped', data: { count: 15 } });
    expect(next.slice(1).map((e) => e.data.messageId)).toEqual(['m-106']);
  });

  it('a backlog beyond the counted pages is read on the next polls, never jumped over', async () => {
    const store = fakeActivity();
    const out = fakeOutput();
    const feed = new LiveFeed(store, WS, out, await store.positions(), { page: 10, maxBufferedBytes: 1024 * 1024, skipPages: 1 });
    store.accept(35);
    await feed.tick(); // sends 1–10, counts 11–20
    await feed.tick(); // reports 10 dropped, sends 21–30, counts 31–35
    await feed.tick(); // reports 5
    const events = sse(out.chunks);
    expect(events.filter((e) => e.event === 'dropped').map((e) => e.data.count)).toEqual([10, 5]);
    expect(events.filter((e) => e.event === 'item')).toHaveLength(20);
  });

  it('sends an event that commits below a position already passed (PostgreSQL), exactly once, while its gap is fresh', async () => {
    const store = fakeActivity();
    const out = fakeOutput();
    let now = T0;
    const feed = new LiveFeed(store, WS, out, await store.positions(), undefined, () => now);
    const late = store.hold(); // m-1: its transaction is still open
    const gone = store.hold(); // m-2: never seen before its gap expires
    store.accept(1); // m-3 commits first
    await feed.tick();
    store.commit(late);
    await feed.tick();
    await feed.tick();
    store.accept(1);
    await feed.tick();
    now += 30_001;
    store.commit(gone);
    await feed.tick();
    expect(sse(out.chunks).map((e) => e.data.messageId)).toEqual(['m-3', 'm-1', 'm-4']);
  });

  it('sends a keep-alive comment after 15 s without a write, once, not on every poll', async () => {
    const store = fakeActivity();
    const out = fakeOutput();
    let now = T0;
    const feed = new LiveFeed(store, WS, out, await store.positions(), undefined, () => now);
    now += 15_001;
    await feed.tick();
    now += 300;
    await feed.tick();
    expect(out.chunks).toEqual([': keep-alive\n\n']);
  });
});
