/**
 * GET /dashboard/api/live: accepted, duplicate and rejected events over SSE, read from the
 * store, so on PostgreSQL an event taken by another API process appears too.
 */
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeServer, type ComposedServer } from '../src/cli/compose.js';
import { openStore, storeOptionsOf } from '../src/storage/open-store.js';
import type { Store } from '../src/storage/ports.js';
import { BACKEND } from '../src/testing/test-database.js';
import { eventually } from '../src/testing/eventually.js';
import { ACTIVITY_LOG_LOCK } from '../src/storage/postgres/activity-store.postgres.js';
import { createUser, dash, signIn, type Session } from '../src/testing/dashboard.js';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

/** Reads SSE `item` events until `until` holds for the list, or the deadline passes. */
async function readLive(url: string, session: Session, until: (items: any[]) => boolean, ms = 2000): Promise<any[]> {
  const ctrl = new AbortController();
  const res = await fetch(`${url}/dashboard/api/live`, { headers: { cookie: session.cookie }, signal: ctrl.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  return readItems(res, ctrl, until, ms);
}

/** A new session's stream (its headers arrived: it has its starting position) and its abort. */
async function openLive(): Promise<{ res: Response; ctrl: AbortController; session: Session }> {
  const session = await signIn(s.url, (await createUser(s.store, ['default'])).email);
  const ctrl = new AbortController();
  const res = await fetch(`${s.url}/dashboard/api/live`, { headers: { cookie: session.cookie }, signal: ctrl.signal });
  expect(res.status).toBe(200);
  return { res, ctrl, session };
}

async function readItems(res: Response, ctrl: AbortController, until: (items: any[]) => boolean, ms: number): Promise<any[]> {
  const items: any[] = [];
  const timer = setTimeout(() => ctrl.abort(), ms);
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const m = /^event: item\ndata: (.*)$/m.exec(block);
        if (m) items.push(JSON.parse(m[1]!));
      }
      if (until(items)) break;
    }
  } catch {
    // aborted at the deadline
  } finally {
    clearTimeout(timer);
    ctrl.abort();
  }
  return items;
}

describe('live view', () => {
  it('streams accepted, duplicate and rejected events of the session\'s workspace only, within 2 s', async () => {
    const u = await createUser(s.store, ['default']);
    const session = await signIn(s.url, u.email);
    const ctrl = new AbortController();
    const res = await fetch(`${s.url}/dashboard/api/live`, { headers: { cookie: session.cookie }, signal: ctrl.signal });
    // The headers are sent once the stream has its starting position: what follows is new.
    expect(res.status).toBe(200);
    const other = await s.createKey('live-other');
    await call(`${s.url}/v1/events`, { key: other, body: ev({ messageId: 'elsewhere' }) });
    await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'live-1' }) });
    await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'live-1' }) });
    await call(`${s.url}/v1/events/batch`, { key: s.key, body: { events: [ev({ messageId: 'live-2' }), ev({ event: 'bad name!' })] } });
    const items = await readItems(res, ctrl, (l) => l.length >= 4, 2000);
    expect(items.map((i) => [i.kind, i.messageId]).sort()).toEqual(
      [
        ['accepted', 'live-1'],
        ['accepted', 'live-2'],
        ['duplicate', 'live-1'],
        ['rejected', null],
      ].sort(),
    );
    const rejected = items.find((i) => i.kind === 'rejected');
    expect(rejected).toMatchObject({ source: 'batch', event: 'bad name!', errors: [{ code: 'INVALID_EVENT_NAME' }] });
    expect(items.some((i) => i.messageId === 'elsewhere')).toBe(false);
  });

  it('shows the Segment-compatible paths\' events too, their refused calls with the error', async () => {
    const u = await createUser(s.store, ['default']);
    const session = await signIn(s.url, u.email);
    const ctrl = new AbortController();
    const res = await fetch(`${s.url}/dashboard/api/live`, { headers: { cookie: session.cookie }, signal: ctrl.signal });
    expect(res.status).toBe(200);
    const auth = { authorization: `Basic ${Buffer.from(`${s.key}:`).toString('base64')}` };
    const batch = await call(`${s.url}/v1/batch`, {
      headers: auth,
      body: {
        batch: [
          { type: 'track', userId: 'seg-live@example.com', event: 'Viewed', messageId: 'seg-live-1' },
          { type: 'track', userId: 'seg-live@example.com', event: 'Ordered', messageId: 'seg-live-2', properties: { products: [{ sku: 'a' }] } },
        ],
      },
    });
    expect(batch.body.rejected).toMatchObject([{ index: 1, code: 'INVALID_ARRAY_ITEM' }]);
    const items = await readItems(res, ctrl, (l) => l.length >= 2, 2000);
    expect(items.map((i) => [i.kind, i.messageId]).sort()).toEqual(
      [
        ['accepted', 'seg-live-1'],
        ['rejected', 'seg-live-2'],
      ].sort(),
    );
    expect(items.find((i) => i.kind === 'rejected')).toMatchObject({ source: 'segment', event: 'Ordered', errors: [{ code: 'INVALID_ARRAY_ITEM' }] });
  });

  it('an accepted event says where it came from: our API or the Segment-compatible paths; so does its event page', async () => {
    const { res, ctrl, session } = await openLive();
    const auth = { authorization: `Basic ${Buffer.from(`${s.key}:`).toString('base64')}` };
    expect((await call(`${s.url}/v1/track`, { headers: auth, body: { userId: 'src@example.com', event: 'Viewed', messageId: 'src-segment' } })).status).toBe(200);
    await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'src-api' }) });
    await call(`${s.url}/v1/events/batch`, { key: s.key, body: { events: [ev({ messageId: 'src-batch' })] } });
    const items = await readItems(res, ctrl, (l) => l.length >= 3, 2000);
    expect(Object.fromEntries(items.map((i) => [i.messageId, [i.kind, i.source]]))).toEqual({
      'src-segment': ['accepted', 'segment'],
      'src-api': ['accepted', 'api'],
      'src-batch': ['accepted', 'api'],
    });
    expect((await dash(s.url, session, '/events/src-segment')).body.event).toMatchObject({ messageId: 'src-segment', source: 'segment' });
    expect((await dash(s.url, session, '/events/src-api')).body.event).toMatchObject({ messageId: 'src-api', source: 'api' });
    // The public read API keeps its shape.
    expect((await call(`${s.url}/v1/events/src-segment`, { key: s.key })).body.event.source).toBeUndefined();
  });

  it.skipIf(BACKEND !== 'postgres')('sends an event whose transaction commits after a later one was sent (out-of-order ids), exactly once', async () => {
    await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'ooo-0' }) });
    // A second writer: a transaction that takes an id now and commits after the API's next event.
    const writer = new pg.Client({ connectionString: s.databaseUrl });
    await writer.connect();
    try {
      const { res, ctrl } = await openLive();
      const { rows } = await writer.query<{ workspace_id: string }>(`SELECT workspace_id FROM events WHERE message_id = 'ooo-0'`);
      await writer.query('BEGIN');
      await writer.query(
        `INSERT INTO events (workspace_id, message_id, event, email, ts, received_at) VALUES ($1, 'ooo-late', 'late', 'late@example.com', $2, $2)`,
        [rows[0]!.workspace_id, Date.now()],
      );
      await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'ooo-1' }) });
      let committed = false;
      const items = await readItems(
        res,
        ctrl,
        (l) => {
          // The later id was sent: the poller is past the open transaction's id. Commit it now.
          if (!committed && l.some((i) => i.messageId === 'ooo-1')) {
            committed = true;
            void writer.query('COMMIT').then(() => call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'ooo-2' }) }));
          }
          // One more poll after the one that found it: a re-send would come before ooo-3.
          if (l.at(-1)?.messageId === 'ooo-2') void call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'ooo-3' }) });
          return l.some((i) => i.messageId === 'ooo-3');
        },
        5000,
      );
      expect(items.map((i) => i.messageId)).toEqual(['ooo-1', 'ooo-late', 'ooo-2', 'ooo-3']);
    } finally {
      await writer.end();
    }
  });

  it.skipIf(BACKEND !== 'postgres')('a rejection logged by another process while a lower log id is still uncommitted is sent too, in id order', async () => {
    const workspaceId = (await s.store.keys.ensureWorkspace('default', 0)).id;
    const { res, ctrl } = await openLive();
    // Another API process's log batch, its transaction still open: it holds the log's lock.
    const writer = new pg.Client({ connectionString: s.databaseUrl });
    await writer.connect();
    try {
      await writer.query('BEGIN');
      await writer.query('SELECT pg_advisory_xact_lock($1, $2)', [...ACTIVITY_LOG_LOCK]);
      await writer.query(
        `INSERT INTO ingest_activity (workspace_id, at, kind, source, message_id, event, email, errors) VALUES ($1, $2, 2, 'single', 'held-log', 'held', NULL, '[{"code":"INVALID_EMAIL","message":"held"}]')`,
        [workspaceId, Date.now()],
      );
      expect((await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'later-log', identify: { email: 'nope' } }) })).status).toBe(400);
      // This process's batch (flushed every 250 ms) waits for the lock instead of committing a higher id first.
      const waiting = `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1 AND objid = $2 AND objsubid = 2
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
      await eventually(async () => Number((await writer.query(waiting, [...ACTIVITY_LOG_LOCK])).rows[0].n) > 0, {
        timeoutMs: 3000,
        what: 'the log batch to wait for the lock',
      });
      await writer.query('COMMIT');
      const items = await readItems(res, ctrl, (l) => l.length >= 2, 3000);
      expect(items.map((i) => [i.kind, i.messageId])).toEqual([
        ['rejected', 'held-log'],
        ['rejected', 'later-log'],
      ]);
    } finally {
      await writer.query('ROLLBACK').catch(() => {});
      await writer.end();
    }
  });

  it.skipIf(BACKEND !== 'postgres')('shows events taken by another API process on the same PostgreSQL', async () => {
    const store2: Store = await openStore(s.databaseUrl, storeOptionsOf(s.config));
    const server2: ComposedServer = await composeServer({ config: s.config, store: store2, log: pino({ level: 'silent' }) });
    const url2 = await server2.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const u = await createUser(s.store, ['default']);
      const session = await signIn(s.url, u.email);
      const pending = readLive(s.url, session, (l) => l.length >= 2, 2500);
      await new Promise((r) => setTimeout(r, 300)); // the stream has taken its starting position
      await call(`${url2}/v1/events`, { key: s.key, body: ev({ messageId: 'via-process-2' }) });
      await call(`${url2}/v1/events`, { key: s.key, body: ev({ identify: { email: 'nope' } }) });
      const items = await pending;
      expect(items.map((i) => i.kind).sort()).toEqual(['accepted', 'rejected']);
      expect(items.find((i) => i.kind === 'accepted').messageId).toBe('via-process-2');
    } finally {
      await server2.close();
      await store2.close();
    }
  });
});
