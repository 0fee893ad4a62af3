import type { JsonObject } from '../../core/types.js';
import type { ApplyResult, ClaimedEvent, QueueStats, QueueStore } from '../ports.js';
import { PgContactWriter, type TimedPatch } from './contact-store.postgres.js';
import type { PgDatabase } from './database.postgres.js';

interface ClaimRow {
  id: number;
  workspace_id: string;
  email: string;
  traits: string | null;
  ts: number;
  attempts: number;
}

/**
 * Leases the oldest due queued events to one worker. The CTE picks and row-locks them with
 * FOR UPDATE SKIP LOCKED: rows another worker is claiming right now are passed over instead
 * of waited for, so any number of workers claim disjoint batches without queueing on each
 * other. A row whose claim committed just before is re-checked against its new version
 * (lease_until now in the future) and dropped, so it is never handed out twice. The partial
 * index events_queue holds only queued rows, so this never walks processed history. An
 * expired lease (a worker killed mid-batch) makes the row claimable again.
 * MATERIALIZED: the LIMITed, locking selection must run exactly once.
 */
const CLAIM_SQL = `
WITH due AS MATERIALIZED (
  SELECT id FROM events
  WHERE status = 0 AND next_attempt_at <= $3 AND lease_until <= $3
  ORDER BY id LIMIT $4
  FOR UPDATE SKIP LOCKED
)
UPDATE events e SET lease_owner = $1, lease_until = $2
FROM due WHERE e.id = due.id
RETURNING e.id, e.workspace_id, e.email, e.traits, e.ts, e.attempts`;

export class PostgresQueueStore implements QueueStore {
  private readonly writer = new PgContactWriter();

  constructor(private readonly db: PgDatabase) {}

  async claim(input: { workerId: string; limit: number; now: number; leaseMs: number }): Promise<ClaimedEvent[]> {
    const { rows } = await this.db.query<ClaimRow>(
      CLAIM_SQL,
      [input.workerId, input.now + input.leaseMs, input.now, input.limit],
      'queue_claim',
    );
    rows.sort((a, b) => a.id - b.id);
    return rows.map((r) => ({
      seq: r.id,
      workspaceId: r.workspace_id,
      email: r.email,
      traitsJson: r.traits,
      timestamp: r.ts,
      attempts: r.attempts,
    }));
  }

  async applyToContact(input: {
    workerId: string;
    workspaceId: string;
    email: string;
    events: { seq: number; patch: JsonObject | null; timestamp: number }[];
    now: number;
  }): Promise<ApplyResult> {
    const seqs = input.events.map((e) => e.seq);
    return this.db.transaction(async (tx): Promise<ApplyResult> => {
      // Still ours? Lock the events that are still queued and leased to this worker, in
      // ascending id (the lock order shared with contacts.delete). Erasing the contact
      // deletes its events, and a re-claim after lease expiry changes lease_owner: either
      // way they are skipped, so nothing here can bring an erased contact back or process
      // an event twice.
      const { rows } = await tx.query<{ id: number }>(
        'SELECT id FROM events WHERE id = ANY($1::bigint[]) AND status = 0 AND lease_owner = $2 ORDER BY id FOR UPDATE',
        [seqs, input.workerId],
        'queue_lock_leased',
      );
      const live = new Set(rows.map((r) => r.id));
      const skipped = seqs.filter((s) => !live.has(s));
      if (live.size === 0) return { processed: [], skipped, contactId: null };
      const patches: TimedPatch[] = input.events
        .filter((e) => live.has(e.seq) && e.patch !== null)
        .map((e) => ({ patch: e.patch!, clock: [e.timestamp, e.seq] as const }));
      const { row } = await this.writer.mergeByEmail(tx, input.workspaceId, input.email, patches, input.now);
      const processed = [...live];
      await tx.query(
        `UPDATE events SET status = 1, contact_id = $1, processed_at = $2, lease_owner = NULL, lease_until = 0, error = NULL
         WHERE id = ANY($3::bigint[])`,
        [row.id, input.now, processed],
        'queue_mark_processed',
      );
      return { processed, skipped, contactId: row.id };
    });
  }

  async fail(input: { workerId: string; seqs: number[]; error: string; retryAt: number | null; now: number }): Promise<void> {
    if (input.seqs.length === 0) return;
    // Only rows still leased to this worker: one re-claimed by another after lease expiry is not ours to fail.
    await this.db.query(
      `UPDATE events SET attempts = attempts + 1, error = $1, status = $2, next_attempt_at = $3,
         lease_owner = NULL, lease_until = 0
       WHERE id = ANY($4::bigint[]) AND lease_owner = $5`,
      [input.error, input.retryAt === null ? 2 : 0, input.retryAt ?? 0, input.seqs, input.workerId],
      'queue_fail',
    );
  }

  async stats(_now: number): Promise<QueueStats> {
    // One round trip; each part reads a partial index only. Ids follow acceptance, so the
    // lowest queued id is the oldest.
    const { rows } = await this.db.query<{ depth: number; oldest: number | null; failed: number }>(
      `SELECT (SELECT COUNT(*) FROM events WHERE status = 0) AS depth,
              (SELECT received_at FROM events WHERE status = 0 ORDER BY id LIMIT 1) AS oldest,
              (SELECT COUNT(*) FROM events WHERE status = 2) AS failed`,
      [],
      'queue_stats',
    );
    const r = rows[0]!;
    return { depth: r.depth, oldestReceivedAt: r.oldest, failed: r.failed };
  }
}
