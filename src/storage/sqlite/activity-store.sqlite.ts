import type Database from 'better-sqlite3';
import { toAccepted } from '../rows.js';
import { ACCEPTED_SCAN, type AcceptedEvent, type ActivityInput, type ActivityRecord, type ActivityStore, type CountDelta, type SeqRange, type StatsPoint } from '../../activity/activity.port.js';

interface ActivityRow {
  id: number;
  workspace_id: string;
  at: number;
  kind: number;
  source: string;
  message_id: string | null;
  event: string | null;
  email: string | null;
  errors: string | null;
}

export function toActivity(r: ActivityRow): ActivityRecord {
  return {
    id: Number(r.id),
    workspaceId: r.workspace_id,
    at: Number(r.at),
    kind: Number(r.kind) === 1 ? 'duplicate' : 'rejected',
    source: r.source,
    messageId: r.message_id,
    event: r.event,
    email: r.email,
    errors: r.errors === null ? null : (JSON.parse(r.errors) as ActivityRecord['errors']),
  };
}

export const activityKind = (k: ActivityInput['kind']) => (k === 'duplicate' ? 1 : 2);

export class SqliteActivityStore implements ActivityStore {
  constructor(private readonly db: Database.Database) {}

  async record(input: { counts: CountDelta[]; rows: ActivityInput[]; retainBefore: number }): Promise<void> {
    const count = this.db.prepare(
      `INSERT INTO event_counts (workspace_id, minute, event, accepted, duplicate, rejected) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (workspace_id, minute, event) DO UPDATE SET accepted = accepted + excluded.accepted,
         duplicate = duplicate + excluded.duplicate, rejected = rejected + excluded.rejected`,
    );
    const row = this.db.prepare(
      'INSERT INTO ingest_activity (workspace_id, at, kind, source, message_id, event, email, errors) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const c of input.counts) count.run(c.workspaceId, c.minute, c.event, c.accepted, c.duplicate, c.rejected);
      for (const r of input.rows) {
        row.run(r.workspaceId, r.at, activityKind(r.kind), r.source, r.messageId, r.event, r.email, r.errors ? JSON.stringify(r.errors) : null);
      }
      this.db.prepare('DELETE FROM ingest_activity WHERE at < ?').run(input.retainBefore);
    })();
  }

  async positions(): Promise<{ eventSeq: number; activityId: number }> {
    const e = this.db.prepare('SELECT COALESCE(MAX(id), 0) AS n FROM events').get() as { n: number };
    const a = this.db.prepare('SELECT COALESCE(MAX(id), 0) AS n FROM ingest_activity').get() as { n: number };
    return { eventSeq: e.n, activityId: a.n };
  }

  async acceptedAfter(workspaceId: string, afterSeq: number, limit: number, scan = ACCEPTED_SCAN): Promise<{ items: AcceptedEvent[]; next: number }> {
    // The newest position first, then a range of the primary key up to it: an event committed
    // between the two statements is above the range, read by the next call.
    return this.db.transaction(() => {
      const newest = (this.db.prepare('SELECT COALESCE(MAX(id), 0) AS n FROM events').get() as { n: number }).n;
      const end = Math.min(newest, afterSeq + scan);
      const items = this.db
        .prepare(
          `SELECT id AS seq, message_id AS messageId, event, email, received_at AS receivedAt, source FROM events
           WHERE id > ? AND id <= ? AND workspace_id = ? ORDER BY id LIMIT ?`,
        )
        .all(afterSeq, end, workspaceId, limit)
        .map(toAccepted);
      // One writer commits in id order: nothing below the newest id can still appear.
      return { items, next: items.length === limit ? items[items.length - 1]!.seq : Math.max(afterSeq, end) };
    })();
  }

  async acceptedIn(workspaceId: string, ranges: SeqRange[], limit: number): Promise<AcceptedEvent[]> {
    if (!ranges.length) return [];
    return this.db
      .prepare(
        `SELECT e.id AS seq, e.message_id AS messageId, e.event, e.email, e.received_at AS receivedAt, e.source FROM json_each(?) r
         JOIN events e ON e.id BETWEEN r.value ->> 0 AND r.value ->> 1
         WHERE e.workspace_id = ? ORDER BY e.id LIMIT ?`,
      )
      .all(JSON.stringify(ranges), workspaceId, limit)
      .map(toAccepted);
  }

  async activityAfter(workspaceId: string, afterId: number, limit: number): Promise<ActivityRecord[]> {
    return (
      this.db.prepare('SELECT * FROM ingest_activity WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?').all(workspaceId, afterId, limit) as ActivityRow[]
    ).map(toActivity);
  }

  async stats(q: { workspaceId: string; event?: string; since: number; until: number; bucketMs: number }): Promise<StatsPoint[]> {
    return this.db
      .prepare(
        `SELECT minute - minute % @b AS t, SUM(accepted) AS accepted, SUM(duplicate) AS duplicate, SUM(rejected) AS rejected
         FROM event_counts WHERE workspace_id = @ws AND minute >= @since AND minute < @until ${q.event !== undefined ? 'AND event = @event' : ''}
         GROUP BY 1 ORDER BY 1`,
      )
      .all({ b: q.bucketMs, ws: q.workspaceId, since: q.since, until: q.until, ...(q.event !== undefined ? { event: q.event } : {}) }) as StatsPoint[];
  }
}
