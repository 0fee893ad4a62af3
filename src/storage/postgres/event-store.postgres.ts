import type { AppendItem, AppendOutcome } from '../../ingest/event-log.port.js';
import type { EventCursor, EventPage, EventQuery, StoredEvent } from '../../events-read/event-reader.port.js';
import { type Branch, DEFAULT_READ_BOUNDS, type ReadBounds, type ReadTrace, eventBefore, eventUpperBound, mergePage, scanBranch } from '../read-bounds.js';
import { EVENT_STATUS } from '../shared/status.js';
import { sourceCode } from '../shared/source.js';
import { PgReads, placeholders, type PgReader } from './reads.postgres.js';
import type { EventStore } from '../ports.js';
import type { AppendRequest, AppendResult } from '../shared/append-request.js';
import { GroupCommit } from '../shared/group-commit.js';
import { EVENT_COLUMNS, statusCode, toStoredEvent, type EventRow } from '../rows.js';
import { hasNul, type PgDatabase } from './database.postgres.js';

/**
 * The hot path, one statement (so one round trip and one commit) per append call, whatever
 * its size. The items travel as one JSON array parameter ($1, built by `appendJson`) and are
 * unpacked server-side by json_to_recordset, so the statement text and its 3 parameters are
 * the same for 1 item or 200: it is prepared once per connection. One JSON text rather than
 * one array literal per column (as before) because the driver builds array literals in
 * JavaScript, escaping every element with regular expressions (pg's escapeElement), where
 * JSON.stringify escapes natively: measured here, the appending process spends about half the
 * CPU per event on the statement (the whole API process 14% less per batched event), and
 * PostgreSQL about the same (BENCHMARKS.md, "PostgreSQL batch append").
 *
 * `reserved` claims each messageId in the dedup ledger: a new row, or taking over an entry
 * accepted at or before the window's start ($3). A live entry makes ON CONFLICT's WHERE
 * false, so the row is not returned: a duplicate. Two processes racing on one messageId
 * meet on the ledger's primary key; the second waits for the first to commit, then sees
 * its fresh accepted_at and gets no row back, so the messageId is accepted exactly once.
 * Rows are reserved in key order, so two calls sharing several messageIds lock them in the
 * same order and cannot deadlock.
 *
 * `stored` then inserts the events whose messageId was reserved, in input order so ids
 * (acceptance order) follow the request. The statement returns the input positions
 * (1-based) that were accepted.
 */
const APPEND_SQL = `
WITH input AS (
  SELECT * FROM ROWS FROM (json_to_recordset($1::json) AS (w text, m text, e text, a text, p text, t text, s bigint, o smallint, v text))
    WITH ORDINALITY AS i(workspace_id, message_id, event, email, properties, traits, ts, source, violations, ord)
),
reserved AS (
  INSERT INTO dedup AS d (workspace_id, message_id, accepted_at)
  SELECT workspace_id, message_id, $2 FROM input ORDER BY workspace_id, message_id
  ON CONFLICT (workspace_id, message_id) DO UPDATE SET accepted_at = excluded.accepted_at
    WHERE d.accepted_at <= $3
  RETURNING workspace_id, message_id
),
stored AS (
  INSERT INTO events (workspace_id, message_id, event, email, properties, traits, ts, received_at, source, violations)
  SELECT i.workspace_id, i.message_id, i.event, i.email, i.properties, i.traits, i.ts, $2, i.source, i.violations
  FROM input i JOIN reserved r ON r.workspace_id = i.workspace_id AND r.message_id = i.message_id
  ORDER BY i.ord
)
SELECT i.ord FROM input i JOIN reserved r ON r.workspace_id = i.workspace_id AND r.message_id = i.message_id`;

/**
 * The items as APPEND_SQL's $1: a JSON array of one object per item, every text field a JSON
 * string. Properties and traits (compact JSON text already) go as strings too, not spliced in
 * as JSON values: PostgreSQL's JSON parser refuses `\u0000` and lone surrogates even inside a
 * `json` value, which a text column stores fine, and parsing their structure server-side
 * measured no cheaper than unescaping one string.
 */
const str = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

function appendJson(items: readonly AppendItem[], sent: readonly number[]): string {
  let out = '[';
  for (let k = 0; k < sent.length; k++) {
    const it = items[sent[k]!]!;
    if (k > 0) out += ',';
    out +=
      `{"w":${JSON.stringify(it.workspaceId)},"m":${JSON.stringify(it.messageId)},"e":${JSON.stringify(it.event)},"a":${JSON.stringify(it.email)}` +
      `,"p":${str(it.properties)},"t":${str(it.traits)},"s":${it.timestamp},"o":${sourceCode(it.source)}` +
      `,"v":${str(it.violations ?? null)}}`;
  }
  return out + ']';
}

/** Dedup rows deleted per purge statement. */
const PURGE_BATCH = 10_000;

/**
 * Group commit: at most MAX_IN_FLIGHT append statements run at once; calls arriving
 * meanwhile wait and then go together as one statement (one round trip, one WAL flush).
 * One statement per request measured ~1,500 single events/s per API process here; a
 * statement per group lets the commit rate stop bounding the request rate.
 */
const MAX_IN_FLIGHT = 2;

const eventKey = (e: StoredEvent): EventCursor => ({ timestamp: e.timestamp, seq: e.seq });

export class PostgresEventStore implements EventStore {
  private readonly appends = new GroupCommit<AppendRequest, AppendResult>((group) => this.commitGroup(group), { maxInFlight: MAX_IN_FLIGHT });

  private readonly reads: PgReads;
  private readonly bounds: ReadBounds;

  constructor(
    private readonly db: PgDatabase,
    opts: { readBounds?: ReadBounds; trace?: ReadTrace } = {},
  ) {
    this.reads = new PgReads(db, opts.trace);
    this.bounds = opts.readBounds ?? DEFAULT_READ_BOUNDS;
  }

  append(items: AppendItem[], now: number, dedupWindowMs: number): Promise<AppendOutcome[]> {
    return this.appends.submit({ items, now, windowMs: dedupWindowMs });
  }

  /**
   * One statement for the group: the latest `now` stamps it (the calls are within a few ms
   * of each other); a messageId repeated across calls is accepted for the first.
   */
  private async commitGroup(group: AppendRequest[]): Promise<AppendResult[]> {
    let now = group[0]!.now;
    for (const p of group) if (p.now > now) now = p.now;
    const outcomes = await this.appendNow(group.length === 1 ? group[0]!.items : group.flatMap((p) => p.items), now, group[0]!.windowMs);
    const results: AppendResult[] = [];
    let at = 0;
    for (const p of group) {
      results.push(outcomes.slice(at, at + p.items.length));
      at += p.items.length;
    }
    return results;
  }

  /**
   * Durable when it resolves: the statement commits on its own with the server's
   * synchronous_commit (default on: WAL flushed before the commit returns). If the
   * connection dies during the commit, the outcome is unknown and the caller gets a 503;
   * a client retry is then answered from the dedup ledger, so it is never stored twice.
   */
  private async appendNow(items: AppendItem[], now: number, dedupWindowMs: number): Promise<AppendOutcome[]> {
    const outcomes: AppendOutcome[] = items.map(() => 'duplicate');
    // A messageId repeated inside the call: the first is sent, the rest are duplicates
    // without asking (ON CONFLICT DO UPDATE may not touch one row twice in a statement).
    const seen = new Set<string>();
    const sent: number[] = [];
    items.forEach((it, i) => {
      const key = `${it.workspaceId}\u0000${it.messageId}`;
      if (seen.has(key)) return;
      seen.add(key);
      sent.push(i);
    });
    if (sent.length === 0) return outcomes;
    const { rows } = await this.db.query<{ ord: number }>(
      APPEND_SQL,
      [appendJson(items, sent), now, now - dedupWindowMs],
      'events_append',
    );
    for (const r of rows) outcomes[sent[r.ord - 1]!] = 'accepted';
    return outcomes;
  }

  async get(workspaceId: string, messageId: string): Promise<StoredEvent | null> {
    if (hasNul(messageId)) return null;
    // Newest first: after the dedup window a messageId may name several events. One seek of
    // events_by_message (workspace_id, message_id, id), which holds every row.
    const { rows } = await this.reads.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE workspace_id = $1 AND message_id = $2 ORDER BY id DESC LIMIT 1`,
      [workspaceId, messageId],
      'events_get',
    );
    return rows[0] ? toStoredEvent(rows[0]) : null;
  }

  /**
   * One index seek bounded by the limit (read-bounds.ts). events_by_time and events_by_email
   * hold every row; events_by_event only processed and failed ones, events_failed_by_time
   * only failed ones (written by the worker, migration 0004). So an event-name list adds the
   * queued rows (read whole from a short queue on the same snapshot, or behind a deep queue
   * a walk of the time index under the budget), and whatever an index does not hold (an
   * event name beside an email, a status) is tested under the budget. Status and the queue
   * predicates are literals, so the planner matches the partial indexes in generic plans too.
   */
  async list(q: EventQuery): Promise<EventPage> {
    if (hasNul(q.email, q.event)) return { items: [], next: null };
    const want = q.limit + 1;
    const status = q.status === undefined ? null : statusCode(q.status);
    const p = placeholders();
    const conds = [`workspace_id = ${p.arg(q.workspaceId)}`];
    if (q.since !== undefined) conds.push(`ts >= ${p.arg(q.since)}`);
    // Keyset paging on (ts desc, id desc): one row comparison, one range on the index.
    const upper = eventUpperBound(q);
    if (upper) conds.push(`(ts, id) < (${p.arg(upper[0])}, ${p.arg(upper[1])})`);
    const args = p.args;
    const sub = (): { args: unknown[]; arg: (v: unknown) => string } => {
      const a = [...args];
      return { args: a, arg: (v) => `$${a.push(v)}` };
    };
    const statusCond = status === null ? null : `status = ${status}`;

    if (status === EVENT_STATUS.failed) {
      const c = sub();
      const base = [...conds, `status = ${EVENT_STATUS.failed}`];
      const residual = [...(q.email !== undefined ? [`email = ${c.arg(q.email)}`] : []), ...(q.event !== undefined ? [`event = ${c.arg(q.event)}`] : [])];
      const b = residual.length === 0 ? await this.exact(this.reads, base, c.args, want) : await this.budgeted(this.reads, base, c.args, residual, want);
      return mergePage([b], eventKey, eventBefore, q.limit);
    }
    if (q.email !== undefined) {
      const c = sub();
      const base = [...conds, `email = ${c.arg(q.email)}`];
      const residual = [...(q.event !== undefined ? [`event = ${c.arg(q.event)}`] : []), ...(statusCond ? [statusCond] : [])];
      const b = residual.length === 0 ? await this.exact(this.reads, base, c.args, want) : await this.budgeted(this.reads, base, c.args, residual, want);
      return mergePage([b], eventKey, eventBefore, q.limit);
    }
    if (q.event === undefined && status !== EVENT_STATUS.queued) {
      const b = statusCond === null ? await this.exact(this.reads, conds, args, want) : await this.budgeted(this.reads, conds, args, [statusCond], want);
      return mergePage([b], eventKey, eventBefore, q.limit);
    }
    // An event name (processed and failed rows in events_by_event, queued ones in the queue),
    // or status=queued alone: on one snapshot.
    const branches = await this.reads.snapshot(async (r): Promise<Branch<StoredEvent, EventCursor>[]> => {
      const out: Branch<StoredEvent, EventCursor>[] = [];
      if (q.event !== undefined && status !== EVENT_STATUS.queued) {
        const c = sub();
        const base = [...conds, `event = ${c.arg(q.event)}`, `status <> ${EVENT_STATUS.queued}`];
        out.push(status === EVENT_STATUS.processed ? await this.budgeted(r, base, c.args, [`status = ${EVENT_STATUS.processed}`], want) : await this.exact(r, base, c.args, want));
      }
      if (status !== EVENT_STATUS.processed) {
        const { rows } = await r.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM (SELECT 1 FROM events WHERE status = ${EVENT_STATUS.queued} LIMIT $1) d`,
          [this.bounds.queueScan + 1],
        );
        const c = sub();
        const filter = q.event !== undefined ? [`event = ${c.arg(q.event)}`] : [];
        if (rows[0]!.n <= this.bounds.queueScan) {
          // A short queue, read whole: at most queueScan + 1 rows, by id.
          const ids = `id = ANY(ARRAY(SELECT id FROM events WHERE status = ${EVENT_STATUS.queued} ORDER BY id DESC LIMIT ${c.arg(this.bounds.queueScan + 1)}))`;
          out.push(await this.exact(r, [ids, ...conds, ...filter, `status = ${EVENT_STATUS.queued}`], c.args, want));
        } else {
          out.push(await this.budgeted(r, conds, c.args, [...filter, `status = ${EVENT_STATUS.queued}`], want));
        }
      }
      return out;
    });
    return mergePage(branches, eventKey, eventBefore, q.limit);
  }

  /** Every row matching `conds`, newest first, up to `want`. */
  private async exact(r: PgReader, conds: string[], args: unknown[], want: number): Promise<Branch<StoredEvent, EventCursor>> {
    const { rows } = await r.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${conds.join(' AND ')} ORDER BY ts DESC, id DESC LIMIT $${args.length + 1}`,
      [...args, want],
    );
    const events = rows.map(toStoredEvent);
    return { rows: events, stop: events.length >= want ? eventKey(events[events.length - 1]!) : null };
  }

  /**
   * Rows matching `conds`, newest first, tested on `residual` one by one: at most scanBudget
   * rows, until `want` hits. Only ids and times are read while scanning; the hits' rows are
   * fetched by id after (a residual in the WHERE would let LIMIT walk the whole range).
   */
  private async budgeted(r: PgReader, conds: string[], args: unknown[], residual: string[], want: number): Promise<Branch<StoredEvent, EventCursor>> {
    const budget = this.bounds.scanBudget;
    const { rows } = await r.query<{ id: string | number; ts: string | number; hit: boolean }>(
      `SELECT id, ts, (${residual.join(' AND ')}) AS hit FROM events WHERE ${conds.join(' AND ')}
       ORDER BY ts DESC, id DESC LIMIT $${args.length + 1}`,
      [...args, budget],
    );
    const ids: number[] = [];
    let examined = 0;
    for (const row of rows) {
      examined++;
      if (row.hit && ids.push(Number(row.id)) >= want) break;
    }
    const lastRow = examined > 0 ? rows[examined - 1]! : null;
    const last = lastRow ? { timestamp: Number(lastRow.ts), seq: Number(lastRow.id) } : null;
    let found: StoredEvent[] = [];
    if (ids.length > 0) {
      const got = await r.query<EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ANY($1::bigint[])`, [ids]);
      const byId = new Map(got.rows.map((e) => [Number(e.id), e]));
      found = ids.flatMap((id) => {
        const e = byId.get(id);
        return e ? [toStoredEvent(e)] : []; // erased since the scan
      });
    }
    return scanBranch(found, examined, last, budget, want);
  }

  async firstAcceptedAt(workspaceId: string, messageId: string): Promise<number | null> {
    if (hasNul(messageId)) return null;
    const { rows } = await this.db.query<{ accepted_at: string | number }>(
      'SELECT accepted_at FROM dedup WHERE workspace_id = $1 AND message_id = $2',
      [workspaceId, messageId],
      'dedup_accepted_at',
    );
    return rows[0] ? Number(rows[0].accepted_at) : null;
  }

  /**
   * Deletes in batches of PURGE_BATCH rows, each its own short transaction, so a first purge
   * after a long pause neither holds locks on millions of ledger rows nor keeps one huge
   * transaction open. An entry taken over by a concurrent append (accepted_at moved past the
   * cutoff) is re-checked by the DELETE and kept.
   */
  async purgeDedup(cutoff: number): Promise<number> {
    let total = 0;
    for (;;) {
      const { rowCount } = await this.db.query(
        `DELETE FROM dedup WHERE (workspace_id, message_id) IN (
           SELECT workspace_id, message_id FROM dedup WHERE accepted_at <= $1 LIMIT $2)
         AND accepted_at <= $1`,
        [cutoff, PURGE_BATCH],
      );
      total += rowCount;
      if (rowCount < PURGE_BATCH) return total;
    }
  }
}
