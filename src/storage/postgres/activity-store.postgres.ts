import { ACCEPTED_SCAN, type AcceptedEvent, type ActivityInput, type ActivityRecord, type ActivityStore, type CountDelta, type SeqRange, type StatsPoint } from '../../activity/activity.port.js';
import { activityKind, toActivity } from '../sqlite/activity-store.sqlite.js';
import { toAccepted } from '../rows.js';
import type { PgDatabase } from './database.postgres.js';

/**
 * Transaction-scoped advisory lock ("SMSH", 2) taken before the log's rows are inserted: the
 * API processes' batches then take their ids and commit one after another, in id order, so
 * the live view, which reads the log by id, never passes an id that commits later (events,
 * on the hot path, are not serialised so: the view re-reads their gaps instead). One batch
 * per process every 250 ms: the wait is a few ms at most. Taken first in the transaction, so
 * every batch locks the lock, then the counter rows: no deadlock.
 */
export const ACTIVITY_LOG_LOCK = [0x534d5348, 2] as const;

export class PostgresActivityStore implements ActivityStore {
  constructor(private readonly db: PgDatabase) {}

  async record(input: { counts: CountDelta[]; rows: ActivityInput[]; retainBefore: number }): Promise<void> {
    // Sorted by key, so two API processes adding to the same minutes lock rows in one order.
    const counts = [...input.counts].sort((a, b) => (a.workspaceId + a.minute + a.event < b.workspaceId + b.minute + b.event ? -1 : 1));
    await this.db.transaction(async (tx) => {
      if (input.rows.length) await tx.query('SELECT pg_advisory_xact_lock($1, $2)', ACTIVITY_LOG_LOCK);
      if (counts.length) {
        await tx.query(
          `INSERT INTO event_counts (workspace_id, minute, event, accepted, duplicate, rejected)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
           ON CONFLICT (workspace_id, minute, event) DO UPDATE SET accepted = event_counts.accepted + excluded.accepted,
             duplicate = event_counts.duplicate + excluded.duplicate, rejected = event_counts.rejected + excluded.rejected`,
          [counts.map((c) => c.workspaceId), counts.map((c) => c.minute), counts.map((c) => c.event), counts.map((c) => c.accepted), counts.map((c) => c.duplicate), counts.map((c) => c.rejected)],
        );
      }
      const rows = input.rows;
      if (rows.length) {
        await tx.query(
          `INSERT INTO ingest_activity (workspace_id, at, kind, source, message_id, event, email, errors)
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::smallint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`,
          [
            rows.map((r) => r.workspaceId),
            rows.map((r) => r.at),
            rows.map((r) => activityKind(r.kind)),
            rows.map((r) => r.source),
            rows.map((r) => r.messageId),
            rows.map((r) => r.event),
            rows.map((r) => r.email),
            rows.map((r) => (r.errors ? JSON.stringify(r.errors) : null)),
          ],
        );
      }
      await tx.query('DELETE FROM ingest_activity WHERE at < $1', [input.retainBefore]);
    });
  }

  async positions(): Promise<{ eventSeq: number; activityId: number }> {
    const { rows } = await this.db.query<{ e: number; a: number }>(
      'SELECT (SELECT COALESCE(MAX(id), 0) FROM events) AS e, (SELECT COALESCE(MAX(id), 0) FROM ingest_activity) AS a',
    );
    return { eventSeq: Number(rows[0]!.e), activityId: Number(rows[0]!.a) };
  }

  async acceptedAfter(workspaceId: string, afterSeq: number, limit: number, scan = ACCEPTED_SCAN): Promise<{ items: AcceptedEvent[]; next: number; gaps?: SeqRange[] }> {
    // The newest position first, then a range of the primary key up to it, and the ids of that
    // range no committed row holds (an index-only walk of the range the items are read from
    // anyway; a sentinel at `end + 1` closes a gap that runs to the end of a range the scan
    // bound cut short). One statement: one snapshot, so an event committing meanwhile is an
    // item or in a gap, never neither.
    const { rows } = await this.db.query<AcceptedEvent & { end: string | number; gaps: [string | number, string | number][] }>(
      `WITH bound AS (SELECT LEAST(COALESCE(MAX(id), 0), $1::bigint + $4::bigint) AS end FROM events),
       present AS (
         SELECT id, LAG(id, 1, $1::bigint) OVER (ORDER BY id) AS prev FROM (
           SELECT id FROM events WHERE id > $1 AND id <= (SELECT "end" FROM bound)
           UNION ALL SELECT "end" + 1 FROM bound -- closes a gap that runs to the range's end
         ) ids
       ),
       gaps AS (SELECT COALESCE(json_agg(json_build_array(prev + 1, id - 1) ORDER BY id), '[]') AS gaps FROM present WHERE id - prev > 1)
       SELECT b.end, g.gaps, e.id AS seq, e.message_id AS "messageId", e.event, e.email, e.received_at AS "receivedAt", e.source
       FROM bound b CROSS JOIN gaps g LEFT JOIN LATERAL (
         SELECT id, message_id, event, email, received_at, source FROM events
         WHERE id > $1 AND id <= b.end AND workspace_id = $2 ORDER BY id LIMIT $3
       ) e ON true ORDER BY e.id`,
      [afterSeq, workspaceId, limit, scan],
    );
    const end = rows.length ? Number(rows[0]!.end) : afterSeq;
    const items = rows.filter((r) => r.seq !== null).map(toAccepted);
    const next = items.length === limit ? items[items.length - 1]!.seq : Math.max(afterSeq, end);
    const gaps = (rows[0]?.gaps ?? []).map(([lo, hi]): SeqRange => [Number(lo), Math.min(Number(hi), next)]).filter(([lo, hi]) => lo <= hi);
    return gaps.length ? { items, next, gaps } : { items, next };
  }

  async acceptedIn(workspaceId: string, ranges: SeqRange[], limit: number): Promise<AcceptedEvent[]> {
    if (!ranges.length) return [];
    const { rows } = await this.db.query<AcceptedEvent>(
      `SELECT e.id AS seq, e.message_id AS "messageId", e.event, e.email, e.received_at AS "receivedAt", e.source
       FROM unnest($2::bigint[], $3::bigint[]) r(lo, hi) JOIN events e ON e.id BETWEEN r.lo AND r.hi
       WHERE e.workspace_id = $1 ORDER BY e.id LIMIT $4`,
      [workspaceId, ranges.map((r) => r[0]), ranges.map((r) => r[1]), limit],
    );
    return rows.map(toAccepted);
  }

  async activityAfter(workspaceId: string, afterId: number, limit: number): Promise<ActivityRecord[]> {
    const { rows } = await this.db.query<Parameters<typeof toActivity>[0]>(
      'SELECT * FROM ingest_activity WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [workspaceId, afterId, limit],
    );
    return rows.map(toActivity);
  }

  async stats(q: { workspaceId: string; event?: string; since: number; until: number; bucketMs: number }): Promise<StatsPoint[]> {
    const { rows } = await this.db.query<StatsPoint>(
      `SELECT (minute / $1) * $1 AS t, SUM(accepted) AS accepted, SUM(duplicate) AS duplicate, SUM(rejected) AS rejected
       FROM event_counts WHERE workspace_id = $2 AND minute >= $3 AND minute < $4 AND ($5::text IS NULL OR event = $5)
       GROUP BY 1 ORDER BY 1`,
      [q.bucketMs, q.workspaceId, q.since, q.until, q.event ?? null],
    );
    return rows.map((r) => ({ t: Number(r.t), accepted: Number(r.accepted), duplicate: Number(r.duplicate), rejected: Number(r.rejected) }));
  }
}
