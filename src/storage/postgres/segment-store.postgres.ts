/**
 * The segment store on PostgreSQL. applyMembership is a compare-and-set on the contact's
 * evaluation version (segment_contacts), in one transaction with the members, transitions
 * and their delivery job: of two workers evaluating one contact at once, the second finds
 * the version moved and evaluates again on what the first committed.
 */
import type { SegmentTransition } from '../../segments/segment-links.js';
import type { ContactMembership, HitQuery, MembershipChange, SegmentHit, SegmentRecord, SegmentStatus, SegmentStore, SegmentTransitionRecord, ContactTransitionRecord, StalledBuild } from '../../segments/segment-store.port.js';
import type { JobInput } from '../../processing/job-queue.port.js';
import { DEFAULT_MAX_ATTEMPTS, JOB_STATUS } from '../shared/job-rows.js';
import { hasNul, type PgDatabase } from './database.postgres.js';

interface SegmentRow {
  id: string;
  workspace_id: string;
  name: string;
  rule: string;
  version: number;
  status: string;
  build_total: number;
  build_done: number;
  member_count: number;
  created_at: number;
  updated_at: number;
}

const SEGMENT_SELECT = `SELECT s.*, (SELECT COUNT(*) FROM segment_members m WHERE m.segment_id = s.id)::int AS member_count FROM segments s`;

function toRecord(r: SegmentRow): SegmentRecord {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    name: r.name,
    rule: JSON.parse(r.rule) as unknown,
    version: r.version,
    status: r.status as SegmentStatus,
    buildDone: r.build_done,
    buildTotal: r.build_total,
    memberCount: r.member_count,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/**
 * One page of a segment's transitions, newest first: segment_transitions_by_segment read
 * backwards from the cursor, and a primary-key lookup of each row's contact for its email (a
 * LEFT JOIN: an erased contact's transitions stay listed). Exported for the plan test.
 */
export const LIST_TRANSITIONS_SQL = `SELECT t.id, t.contact_id, c.email, t.kind, t.at FROM segment_transitions t LEFT JOIN contacts c ON c.id = t.contact_id
    WHERE t.segment_id = $1 AND t.id < $2 ORDER BY t.id DESC LIMIT $3`;

/** As on SQLite (segment-store.sqlite.ts): building segments with no queued backfill job in their key range. */
export const STALLED_BUILDS_SQL = `SELECT s.workspace_id, s.id, s.version FROM segments s
    WHERE s.status = 'building' AND s.updated_at < $1
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = $2 AND j.key >= s.id || ':' || s.version || ':' AND j.key < s.id || ':' || s.version || ';'
                      AND j.status = ${JOB_STATUS.queued})
    ORDER BY s.updated_at LIMIT $3`;

/** Distinct node keys by a skip over segment_hits_by_node (PostgreSQL has no loose index scan of its own). */
export const HIT_KEYS_SQL = `WITH RECURSIVE k(key) AS (
      SELECT MIN(node_key) FROM segment_hits
      UNION ALL SELECT (SELECT MIN(node_key) FROM segment_hits WHERE node_key > k.key) FROM k WHERE k.key IS NOT NULL)
    SELECT key FROM k WHERE key IS NOT NULL`;

/**
 * At most `limit` hits of one node older than `before`: a range of segment_hits_by_node, then
 * a Tid Scan of those rows. (Written as `(contact_id, node_key, seq) IN (subquery)`, the
 * planner hash-joined the subquery against a Seq Scan of the whole table.)
 */
export const PRUNE_HITS_SQL = `DELETE FROM segment_hits WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM segment_hits WHERE node_key = $1 AND ts < $2 LIMIT $3))`;

const finite = (n: number): number => (Number.isFinite(n) ? n : -Number.MAX_SAFE_INTEGER);

export class PostgresSegmentStore implements SegmentStore {
  constructor(private readonly db: PgDatabase) {}

  async createSegment(s: Omit<SegmentRecord, 'memberCount'>): Promise<void> {
    await this.db.query(
      `INSERT INTO segments (id, workspace_id, name, rule, version, status, build_total, build_done, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [s.id, s.workspaceId, s.name, JSON.stringify(s.rule), s.version, s.status, s.buildTotal, s.buildDone, s.createdAt, s.updatedAt],
    );
  }

  async getSegment(workspaceId: string, id: string): Promise<SegmentRecord | null> {
    if (hasNul(workspaceId, id)) return null;
    const { rows } = await this.db.query<SegmentRow>(`${SEGMENT_SELECT} WHERE s.id = $1 AND s.workspace_id = $2`, [id, workspaceId]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async listSegments(workspaceId: string, opts: { memberCounts?: boolean } = {}): Promise<SegmentRecord[]> {
    const select = opts.memberCounts ? SEGMENT_SELECT : 'SELECT s.*, 0 AS member_count FROM segments s';
    const { rows } = await this.db.query<SegmentRow>(`${select} WHERE s.workspace_id = $1 ORDER BY s.created_at, s.id`, [workspaceId]);
    return rows.map(toRecord);
  }

  async updateSegment(workspaceId: string, id: string, patch: { name?: string; rule?: unknown; buildTotal?: number; now: number }): Promise<SegmentRecord | null> {
    if (hasNul(id)) return null;
    const r =
      patch.rule === undefined
        ? await this.db.query('UPDATE segments SET name = COALESCE($1, name), updated_at = $2 WHERE id = $3 AND workspace_id = $4', [patch.name ?? null, patch.now, id, workspaceId])
        : await this.db.query(
            `UPDATE segments SET name = COALESCE($1, name), rule = $2, version = version + 1, status = 'building', build_done = 0, build_total = $3, updated_at = $4
             WHERE id = $5 AND workspace_id = $6`,
            [patch.name ?? null, JSON.stringify(patch.rule), patch.buildTotal ?? 0, patch.now, id, workspaceId],
          );
    return r.rowCount === 1 ? this.getSegment(workspaceId, id) : null;
  }

  async deleteSegment(workspaceId: string, id: string): Promise<boolean> {
    if (hasNul(id)) return false;
    return this.db.transaction(async (tx) => {
      const r = await tx.query('DELETE FROM segments WHERE id = $1 AND workspace_id = $2', [id, workspaceId]);
      if (r.rowCount === 0) return false;
      await tx.query('DELETE FROM segment_members WHERE segment_id = $1', [id]);
      return true;
    });
  }

  async recordProgress(id: string, version: number, input: { done: number; status: SegmentStatus; now: number }): Promise<void> {
    await this.db.query(
      'UPDATE segments SET build_done = $1, status = $2, updated_at = GREATEST(updated_at, $3) WHERE id = $4 AND version = $5',
      [input.done, input.status, input.now, id, version],
    );
  }

  async countContacts(workspaceId: string): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM contacts WHERE workspace_id = $1', [workspaceId]);
    return rows[0]?.n ?? 0;
  }

  async listMembers(segmentId: string, input: { limit: number; after?: string }): Promise<{ contactId: string; enteredAt: number }[]> {
    if (hasNul(segmentId, input.after)) return [];
    const { rows } = await this.db.query<{ contact_id: string; entered_at: number }>(
      'SELECT contact_id, entered_at FROM segment_members WHERE segment_id = $1 AND contact_id > $2 ORDER BY contact_id LIMIT $3',
      [segmentId, input.after ?? '', input.limit],
    );
    return rows.map((r) => ({ contactId: r.contact_id, enteredAt: Number(r.entered_at) }));
  }

  async listTransitions(segmentId: string, input: { limit: number; before?: number }): Promise<SegmentTransitionRecord[]> {
    if (hasNul(segmentId)) return [];
    const { rows } = await this.db.query<{ id: string; contact_id: string; email: string | null; kind: string; at: string }>(
      LIST_TRANSITIONS_SQL,
      [segmentId, input.before ?? Number.MAX_SAFE_INTEGER, input.limit],
      'segments_list_transitions',
    );
    return rows.map((r) => ({ id: Number(r.id), contactId: r.contact_id, email: r.email, on: r.kind as 'enter' | 'exit', at: Number(r.at) }));
  }

  async contactTransitions(workspaceId: string, contactId: string, limit: number): Promise<ContactTransitionRecord[]> {
    if (hasNul(contactId) || hasNul(workspaceId)) return [];
    // segment_transitions_by_contact (contact_id, id) read backwards, `limit` rows; a deleted segment's stay listed, nameless.
    const { rows } = await this.db.query<{ id: string; segment_id: string; name: string | null; kind: string; at: string }>(
      `SELECT t.id, t.segment_id, s.name, t.kind, t.at FROM segment_transitions t LEFT JOIN segments s ON s.id = t.segment_id
       WHERE t.contact_id = $1 AND t.workspace_id = $2 ORDER BY t.id DESC LIMIT $3`,
      [contactId, workspaceId, limit],
      'segments_contact_transitions',
    );
    return rows.map((r) => ({ id: Number(r.id), segmentId: r.segment_id, segmentName: r.name, on: r.kind as 'enter' | 'exit', at: Number(r.at) }));
  }

  async contactMembership(contactId: string): Promise<ContactMembership> {
    if (hasNul(contactId)) return { version: 0, members: [] };
    // One statement, one snapshot: the version and the members it stands for.
    const { rows } = await this.db.query<{ version: number | null; segment_id: string | null; entered_at: number | null }>(
      `SELECT v.version, m.segment_id, m.entered_at
       FROM (SELECT (SELECT version FROM segment_contacts WHERE contact_id = $1) AS version) v
       LEFT JOIN segment_members m ON m.contact_id = $1
       ORDER BY m.entered_at, m.segment_id`,
      [contactId],
    );
    const members = rows.flatMap((r) => (r.segment_id === null ? [] : [{ segmentId: r.segment_id, enteredAt: Number(r.entered_at) }]));
    return { version: rows[0]?.version ?? 0, members };
  }

  async recordHits(hits: SegmentHit[]): Promise<void> {
    if (hits.length === 0) return;
    await this.db.query(
      `INSERT INTO segment_hits (contact_id, node_key, seq, ts)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) ON CONFLICT DO NOTHING`,
      [hits.map((h) => h.contactId), hits.map((h) => h.nodeKey), hits.map((h) => h.seq), hits.map((h) => h.ts)],
    );
  }

  async countHits(contactId: string, queries: HitQuery[]): Promise<{ count: number; rankTs: number | null }[]> {
    if (queries.length === 0) return [];
    // One round trip for every node of a contact's evaluation (each an index range count on
    // segment_hits_by_time, plus the rank-th newest ts when asked for; rank 0: not asked).
    const { rows } = await this.db.query<{ n: number; rank_ts: number | null }>(
      `SELECT (SELECT COUNT(*)::int FROM segment_hits h WHERE h.contact_id = $1 AND h.node_key = q.k AND h.ts >= q.since) AS n,
              CASE WHEN q.r > 0 THEN (SELECT ts FROM segment_hits h WHERE h.contact_id = $1 AND h.node_key = q.k AND h.ts >= q.since
                                      ORDER BY ts DESC, seq DESC LIMIT 1 OFFSET q.r - 1) END AS rank_ts
       FROM unnest($2::text[], $3::bigint[], $4::int[]) WITH ORDINALITY AS q(k, since, r, ord) ORDER BY q.ord`,
      [contactId, queries.map((q) => q.nodeKey), queries.map((q) => finite(q.since)), queries.map((q) => (q.rank !== undefined && q.rank >= 1 ? Math.min(q.rank, 2 ** 31 - 1) : 0))],
      'segments_count_hits',
    );
    return rows.map((r) => ({ count: r.n, rankTs: r.rank_ts === null ? null : Number(r.rank_ts) }));
  }

  async contactEvents(workspaceId: string, contactId: string, names: string[]) {
    if (names.length === 0 || hasNul(contactId)) return [];
    const { rows } = await this.db.query<{ id: number; event: string; properties: string | null; ts: number }>(
      `SELECT id, event, properties, ts FROM events WHERE contact_id = $1 AND status <> 0 AND workspace_id = $2 AND event = ANY($3::text[]) ORDER BY id`,
      [contactId, workspaceId, names],
    );
    return rows.map((r) => ({
      seq: Number(r.id),
      event: r.event,
      properties: r.properties === null ? null : (JSON.parse(r.properties) as Record<string, unknown>),
      timestamp: Number(r.ts),
    }));
  }

  async scheduleTimers(jobs: JobInput[], now: number): Promise<void> {
    if (jobs.length === 0) return;
    await this.db.query(
      `INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at)
       SELECT kind, key, payload, ${JOB_STATUS.queued}, run_at, max_attempts, $6
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::int[]) AS t(kind, key, payload, run_at, max_attempts)
       ON CONFLICT DO NOTHING`,
      [jobs.map((j) => j.kind), jobs.map((j) => j.key ?? null), jobs.map((j) => JSON.stringify(j.payload ?? null)), jobs.map((j) => j.runAt), jobs.map((j) => j.maxAttempts ?? DEFAULT_MAX_ATTEMPTS), now],
    );
  }

  async applyMembership(c: MembershipChange): Promise<{ applied: boolean; transitions: SegmentTransition[] }> {
    return this.db.transaction(async (tx) => {
      // The CAS: insert version 1 when none was there, or bump it from the one evaluated on.
      // A row another transaction holds makes this wait; after its commit the WHERE fails.
      const cas = await tx.query<{ version: number }>(
        `INSERT INTO segment_contacts (contact_id, workspace_id, version) SELECT $1, $2, 1 WHERE $3::int = 0
         ON CONFLICT (contact_id) DO NOTHING RETURNING version`,
        [c.contactId, c.workspaceId, c.expectedVersion],
      );
      if (cas.rowCount === 0) {
        const upd = await tx.query('UPDATE segment_contacts SET version = version + 1 WHERE contact_id = $1 AND version = $2', [c.contactId, c.expectedVersion]);
        if (upd.rowCount === 0) return { applied: false, transitions: [] };
      }
      const transitions: SegmentTransition[] = [];
      const push = async (segmentId: string, on: 'enter' | 'exit'): Promise<void> => {
        const { rows } = await tx.query<{ id: number }>(
          'INSERT INTO segment_transitions (workspace_id, segment_id, contact_id, kind, at) VALUES ($1, $2, $3, $4, $5) RETURNING id',
          [c.workspaceId, segmentId, c.contactId, on, c.now],
        );
        transitions.push({ id: `sgt_${Number(rows[0]!.id)}`, workspaceId: c.workspaceId, segmentId, contactId: c.contactId, on, at: c.now });
      };
      for (const s of c.enter) {
        const r = await tx.query(
          `INSERT INTO segment_members (segment_id, contact_id, entered_at) SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM segments WHERE id = $1)
           ON CONFLICT DO NOTHING`,
          [s, c.contactId, c.now],
        );
        if (r.rowCount === 1) await push(s, 'enter');
      }
      for (const s of c.exit) {
        const r = await tx.query('DELETE FROM segment_members WHERE segment_id = $1 AND contact_id = $2', [s, c.contactId]);
        if (r.rowCount === 1) await push(s, 'exit');
      }
      if (transitions.length && c.delivery) {
        await tx.query(
          `INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at) VALUES ($1, $2, $3, ${JOB_STATUS.queued}, $4, $5, $4) ON CONFLICT DO NOTHING`,
          [c.delivery.kind, transitions[0]!.id, JSON.stringify({ transitions }), c.now, c.delivery.maxAttempts],
        );
      }
      return { applied: true, transitions };
    });
  }

  async stalledBuilds(input: { before: number; backfillKind: string; limit: number }): Promise<StalledBuild[]> {
    const { rows } = await this.db.query<{ workspace_id: string; id: string; version: number }>(STALLED_BUILDS_SQL, [input.before, input.backfillKind, input.limit]);
    return rows.map((r) => ({ workspaceId: r.workspace_id, id: r.id, version: r.version }));
  }

  async hitKeys(): Promise<string[]> {
    const { rows } = await this.db.query<{ key: string }>(HIT_KEYS_SQL);
    return rows.map((r) => r.key);
  }

  async pruneHits(nodeKey: string, before: number, limit: number): Promise<number> {
    if (hasNul(nodeKey)) return 0;
    const r = await this.db.query(
      PRUNE_HITS_SQL,
      [nodeKey, before, limit],
    );
    return r.rowCount;
  }
}
