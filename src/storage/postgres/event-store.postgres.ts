import type { AppendItem, AppendOutcome } from '../../ingest/event-log.port.js';
import type { EventQuery, StoredEvent } from '../../events-read/event-reader.port.js';
import type { EventStore } from '../ports.js';
import type { AppendRequest, AppendResult } from '../shared/append-request.js';
import { GroupCommit } from '../shared/group-commit.js';
import { EVENT_COLUMNS, statusCode, toStoredEvent, type EventRow } from '../rows.js';
import { hasNul, type PgDatabase } from './database.postgres.js';

/**
 * The hot path, one statement (so one round trip and one commit) per append call, whatever
 * its size. The items travel as one array per column and are unnested server-side, so the
 * statement text and its 9 parameters are the same for 1 item or 200: it is prepared once
 * per connection.
 *
 * `reserved` claims each messageId in the dedup ledger: a new row, or taking over an entry
 * accepted at or before the window's start ($9). A live entry makes ON CONFLICT's WHERE
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
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
    WITH ORDINALITY AS i(workspace_id, message_id, event, email, properties, traits, ts, ord)
),
reserved AS (
  INSERT INTO dedup AS d (workspace_id, message_id, accepted_at)
  SELECT workspace_id, message_id, $8 FROM input ORDER BY workspace_id, message_id
  ON CONFLICT (workspace_id, message_id) DO UPDATE SET accepted_at = excluded.accepted_at
    WHERE d.accepted_at <= $9
  RETURNING workspace_id, message_id
),
stored AS (
  INSERT INTO events (workspace_id, message_id, event, email, properties, traits, ts, received_at)
  SELECT i.workspace_id, i.message_id, i.event, i.email, i.properties, i.traits, i.ts, $8
  FROM input i JOIN reserved r ON r.workspace_id = i.workspace_id AND r.message_id = i.message_id
  ORDER BY i.ord
)
SELECT i.ord FROM input i JOIN reserved r ON r.workspace_id = i.workspace_id AND r.message_id = i.message_id`;

/** Dedup rows deleted per purge statement. */
const PURGE_BATCH = 10_000;

/**
 * Group commit: at most MAX_IN_FLIGHT append statements run at once; calls arriving
 * meanwhile wait and then go together as one statement (one round trip, one WAL flush).
 * One statement per request measured ~1,500 single events/s per API process here; a
 * statement per group lets the commit rate stop bounding the request rate.
 */
const MAX_IN_FLIGHT = 2;

export class PostgresEventStore implements EventStore {
  private readonly appends = new GroupCommit<AppendRequest, AppendResult>((group) => this.commitGroup(group), { maxInFlight: MAX_IN_FLIGHT });

  constructor(private readonly db: PgDatabase) {}

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
    const col = <T>(f: (it: AppendItem) => T): T[] => sent.map((i) => f(items[i]!));
    const { rows } = await this.db.query<{ ord: number }>(
      APPEND_SQL,
      [
        col((it) => it.workspaceId),
        col((it) => it.messageId),
        col((it) => it.event),
        col((it) => it.email),
        col((it) => it.properties),
        col((it) => it.traits),
        col((it) => it.timestamp),
        now,
        now - dedupWindowMs,
      ],
      'events_append',
    );
    for (const r of rows) outcomes[sent[r.ord - 1]!] = 'accepted';
    return outcomes;
  }

  async get(workspaceId: string, messageId: string): Promise<StoredEvent | null> {
    if (hasNul(messageId)) return null;
    // Newest first: after the dedup window a messageId may name several events.
    const { rows } = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE workspace_id = $1 AND message_id = $2 ORDER BY id DESC LIMIT 1`,
      [workspaceId, messageId],
      'events_get',
    );
    return rows[0] ? toStoredEvent(rows[0]) : null;
  }

  async list(q: EventQuery): Promise<StoredEvent[]> {
    if (hasNul(q.email, q.event)) return [];
    const args: unknown[] = [q.workspaceId];
    const arg = (v: unknown): string => `$${args.push(v)}`;
    const where = ['workspace_id = $1'];
    if (q.email !== undefined) where.push(`email = ${arg(q.email)}`);
    if (q.event !== undefined) where.push(`event = ${arg(q.event)}`);
    // A literal (from a fixed set), so the planner can match the partial indexes
    // events_queue (status = 0) and events_failed (status = 2) in generic plans too.
    if (q.status !== undefined) where.push(`status = ${statusCode(q.status)}`);
    if (q.since !== undefined) where.push(`ts >= ${arg(q.since)}`);
    if (q.until !== undefined) where.push(`ts < ${arg(q.until)}`);
    // Keyset paging on (ts desc, id desc): never repeats or skips, even among equal
    // timestamps. The row comparison is one range condition on events_by_time/by_email.
    if (q.after) where.push(`(ts, id) < (${arg(q.after.timestamp)}, ${arg(q.after.seq)})`);
    const { rows } = await this.db.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY ts DESC, id DESC LIMIT ${arg(q.limit)}`,
      args,
    );
    return rows.map(toStoredEvent);
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
