/**
 * The segment store on the embedded store. Writes run on the writer thread (sqlite-store.ts
 * sends them there by message), so the compare-and-set of applyMembership never races:
 * one connection, synchronous statements.
 */
import type Database from 'better-sqlite3';
import type { SegmentTransition } from '../../segments/segment-links.js';
import type { ContactMembership, HitQuery, MembershipChange, SegmentHit, SegmentRecord, SegmentStatus, SegmentStore, SegmentTransitionRecord, ContactTransitionRecord, StalledBuild } from '../../segments/segment-store.port.js';
import type { JobInput } from '../../processing/job-queue.port.js';
import { DEFAULT_MAX_ATTEMPTS, JOB_STATUS } from '../shared/job-rows.js';
import { sqliteFailure } from './errors.sqlite.js';
import { Statements } from './statements.js';
import { SyncMode } from './sync-mode.sqlite.js';

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

const SEGMENT_SELECT = `SELECT s.*, (SELECT COUNT(*) FROM segment_members m WHERE m.segment_id = s.id) AS member_count FROM segments s`;

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
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/**
 * One page of a segment's transitions, newest first: a range of segment_transitions_by_segment
 * read backwards from the cursor, and a primary-key lookup of each row's contact for its email
 * (a LEFT JOIN: an erased contact's transitions stay listed). Exported for the plan test.
 */
export const LIST_TRANSITIONS_SQL = `SELECT t.id, t.contact_id, c.email, t.kind, t.at FROM segment_transitions t LEFT JOIN contacts c ON c.id = t.contact_id
    WHERE t.segment_id = ? AND t.id < ? ORDER BY t.id DESC LIMIT ?`;

/**
 * A contact's transitions for its timeline: segment_transitions_by_contact (contact_id, id)
 * read backwards, `limit` rows; the segment's name by primary key (LEFT JOIN: a deleted
 * segment's transitions stay listed, nameless).
 */
export const CONTACT_TRANSITIONS_SQL = `SELECT t.id, t.segment_id, s.name, t.kind, t.at FROM segment_transitions t LEFT JOIN segments s ON s.id = t.segment_id
    WHERE t.contact_id = ? AND t.workspace_id = ? ORDER BY t.id DESC LIMIT ?`;

/**
 * Builds nothing is running: `building` segments (a partial index, so a scan of the few that
 * build) without a queued backfill job in their key range `<id>:<version>:` to
 * `<id>:<version>;` (';' sorts right after ':'), a seek of jobs_by_key.
 */
export const STALLED_BUILDS_SQL = `SELECT s.workspace_id, s.id, s.version FROM segments s
    WHERE s.status = 'building' AND s.updated_at < ?
      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = ? AND j.key >= s.id || ':' || s.version || ':' AND j.key < s.id || ':' || s.version || ';'
                      AND j.status = ${JOB_STATUS.queued})
    ORDER BY s.updated_at LIMIT ?`;

/** Distinct node keys by a skip over segment_hits_by_node: one seek per key, not a read of every hit. */
export const HIT_KEYS_SQL = `WITH RECURSIVE k(key) AS (
      SELECT MIN(node_key) FROM segment_hits
      UNION ALL SELECT (SELECT MIN(node_key) FROM segment_hits WHERE node_key > k.key) FROM k WHERE k.key IS NOT NULL)
    SELECT key FROM k WHERE key IS NOT NULL`;

/** At most `limit` hits of one node older than `before`: a range of segment_hits_by_node, then their primary keys. */
export const PRUNE_HITS_SQL = `DELETE FROM segment_hits WHERE (contact_id, node_key, seq) IN
    (SELECT contact_id, node_key, seq FROM segment_hits WHERE node_key = ? AND ts < ? LIMIT ?)`;

const finite = (n: number): number => (Number.isFinite(n) ? n : -Number.MAX_SAFE_INTEGER);

export class SqliteSegmentStore implements SegmentStore {
  private readonly sync: SyncMode;
  private readonly st: Statements;
  constructor(private readonly db: Database.Database) {
    this.sync = new SyncMode(db);
    this.st = new Statements(db);
  }

  private stmt(sql: string): Database.Statement {
    return this.st.prepare(sql);
  }

  private write<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw sqliteFailure(err);
    }
  }

  async createSegment(s: Omit<SegmentRecord, 'memberCount'>): Promise<void> {
    this.write(() =>
      this.stmt(`INSERT INTO segments (id, workspace_id, name, rule, version, status, build_total, build_done, created_at, updated_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(s.id, s.workspaceId, s.name, JSON.stringify(s.rule), s.version, s.status, s.buildTotal, s.buildDone, s.createdAt, s.updatedAt),
    );
  }

  async getSegment(workspaceId: string, id: string): Promise<SegmentRecord | null> {
    const r = this.stmt(`${SEGMENT_SELECT} WHERE s.id = ? AND s.workspace_id = ?`).get(id, workspaceId) as SegmentRow | undefined;
    return r ? toRecord(r) : null;
  }

  async listSegments(workspaceId: string, opts: { memberCounts?: boolean } = {}): Promise<SegmentRecord[]> {
    const select = opts.memberCounts ? SEGMENT_SELECT : 'SELECT s.*, 0 AS member_count FROM segments s';
    const rows = this.stmt(`${select} WHERE s.workspace_id = ? ORDER BY s.created_at, s.id`).all(workspaceId) as SegmentRow[];
    return rows.map(toRecord);
  }

  async updateSegment(workspaceId: string, id: string, patch: { name?: string; rule?: unknown; buildTotal?: number; now: number }): Promise<SegmentRecord | null> {
    const changed = this.write(() => {
      const info =
        patch.rule === undefined
          ? this.stmt('UPDATE segments SET name = COALESCE(?, name), updated_at = ? WHERE id = ? AND workspace_id = ?').run(patch.name ?? null, patch.now, id, workspaceId)
          : this.stmt(`UPDATE segments SET name = COALESCE(?, name), rule = ?, version = version + 1, status = 'building', build_done = 0, build_total = ?, updated_at = ?
                WHERE id = ? AND workspace_id = ?`)
              .run(patch.name ?? null, JSON.stringify(patch.rule), patch.buildTotal ?? 0, patch.now, id, workspaceId);
      return info.changes === 1;
    });
    return changed ? this.getSegment(workspaceId, id) : null;
  }

  async deleteSegment(workspaceId: string, id: string): Promise<boolean> {
    return this.write(() => {
      const info = this.stmt('DELETE FROM segments WHERE id = ? AND workspace_id = ?').run(id, workspaceId);
      if (info.changes === 0) return false;
      this.stmt('DELETE FROM segment_members WHERE segment_id = ?').run(id);
      return true;
    });
  }

  async recordProgress(id: string, version: number, input: { done: number; status: SegmentStatus; now: number }): Promise<void> {
    this.write(() =>
      this.stmt('UPDATE segments SET build_done = ?, status = ?, updated_at = MAX(updated_at, ?) WHERE id = ? AND version = ?')
        .run(input.done, input.status, input.now, id, version),
    );
  }

  async countContacts(workspaceId: string): Promise<number> {
    return this.stmt('SELECT COUNT(*) FROM contacts WHERE workspace_id = ?').pluck().get(workspaceId) as number;
  }

  async listMembers(segmentId: string, input: { limit: number; after?: string }): Promise<{ contactId: string; enteredAt: number }[]> {
    const rows = this.stmt('SELECT contact_id, entered_at FROM segment_members WHERE segment_id = ? AND contact_id > ? ORDER BY contact_id LIMIT ?')
      .all(segmentId, input.after ?? '', input.limit) as { contact_id: string; entered_at: number }[];
    return rows.map((r) => ({ contactId: r.contact_id, enteredAt: r.entered_at }));
  }

  async listTransitions(segmentId: string, input: { limit: number; before?: number }): Promise<SegmentTransitionRecord[]> {
    const rows = this.stmt(LIST_TRANSITIONS_SQL).all(segmentId, input.before ?? Number.MAX_SAFE_INTEGER, input.limit) as { id: number; contact_id: string; email: string | null; kind: string; at: number }[];
    return rows.map((r) => ({ id: r.id, contactId: r.contact_id, email: r.email, on: r.kind as 'enter' | 'exit', at: r.at }));
  }

  async contactTransitions(workspaceId: string, contactId: string, limit: number): Promise<ContactTransitionRecord[]> {
    const rows = this.stmt(CONTACT_TRANSITIONS_SQL).all(contactId, workspaceId, limit) as { id: number; segment_id: string; name: string | null; kind: string; at: number }[];
    return rows.map((r) => ({ id: r.id, segmentId: r.segment_id, segmentName: r.name, on: r.kind as 'enter' | 'exit', at: r.at }));
  }

  async contactMembership(contactId: string): Promise<ContactMembership> {
    // One read transaction, one snapshot: the version and the members it stands for.
    return this.db.transaction(() => this.membershipNow(contactId))();
  }

  private membershipNow(contactId: string): ContactMembership {
    const version = (this.stmt('SELECT version FROM segment_contacts WHERE contact_id = ?').pluck().get(contactId) as number | undefined) ?? 0;
    const rows = this.stmt('SELECT segment_id, entered_at FROM segment_members WHERE contact_id = ? ORDER BY entered_at, segment_id')
      .all(contactId) as { segment_id: string; entered_at: number }[];
    return { version, members: rows.map((r) => ({ segmentId: r.segment_id, enteredAt: r.entered_at })) };
  }

  async recordHits(hits: SegmentHit[]): Promise<void> {
    if (hits.length === 0) return;
    const insert = this.stmt('INSERT INTO segment_hits (contact_id, node_key, seq, ts) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
    // Unsynced: a hit lost to a power cut is recorded again when its stage job runs again.
    this.sync.unsynced(() => this.write(() => {
      for (const h of hits) insert.run(h.contactId, h.nodeKey, h.seq, h.ts);
    }));
  }

  async countHits(contactId: string, queries: HitQuery[]): Promise<{ count: number; rankTs: number | null }[]> {
    const count = this.stmt('SELECT COUNT(*) FROM segment_hits WHERE contact_id = ? AND node_key = ? AND ts >= ?').pluck();
    const ranked = this.stmt('SELECT ts FROM segment_hits WHERE contact_id = ? AND node_key = ? AND ts >= ? ORDER BY ts DESC, seq DESC LIMIT 1 OFFSET ?').pluck();
    return queries.map((q) => {
      const since = finite(q.since);
      const n = count.get(contactId, q.nodeKey, since) as number;
      const rankTs = q.rank !== undefined && q.rank >= 1 && q.rank <= n ? (ranked.get(contactId, q.nodeKey, since, q.rank - 1) as number) : null;
      return { count: n, rankTs };
    });
  }

  async contactEvents(workspaceId: string, contactId: string, names: string[]) {
    if (names.length === 0) return [];
    const rows = this.stmt(`SELECT id, event, properties, ts FROM events WHERE contact_id = ? AND status <> 0 AND workspace_id = ?
        AND event IN (SELECT value FROM json_each(?)) ORDER BY id`)
      .all(contactId, workspaceId, JSON.stringify(names)) as { id: number; event: string; properties: string | null; ts: number }[];
    return rows.map((r) => ({ seq: r.id, event: r.event, properties: r.properties === null ? null : (JSON.parse(r.properties) as Record<string, unknown>), timestamp: r.ts }));
  }

  async scheduleTimers(jobs: JobInput[], now: number): Promise<void> {
    if (jobs.length === 0) return;
    const insert = this.stmt(`INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at) VALUES (?, ?, ?, ${JOB_STATUS.queued}, ?, ?, ?) ON CONFLICT DO NOTHING`);
    this.sync.unsynced(() => this.write(() => {
      for (const j of jobs) insert.run(j.kind, j.key ?? null, JSON.stringify(j.payload ?? null), j.runAt, j.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, now);
    }));
  }

  async applyMembership(c: MembershipChange): Promise<{ applied: boolean; transitions: SegmentTransition[] }> {
    // Unsynced, like the worker's other commits: a power cut loses a suffix of commits, so
    // losing this one also loses the later completion of the job that made it, which then
    // runs again and makes it again.
    return this.sync.unsynced(() => this.write(() => {
      const version = (this.stmt('SELECT version FROM segment_contacts WHERE contact_id = ?').pluck().get(c.contactId) as number | undefined) ?? 0;
      if (version !== c.expectedVersion) return { applied: false, transitions: [] };
      this.stmt('INSERT INTO segment_contacts (contact_id, workspace_id, version) VALUES (?, ?, 1) ON CONFLICT (contact_id) DO UPDATE SET version = version + 1')
        .run(c.contactId, c.workspaceId);
      const transitions: SegmentTransition[] = [];
      const record = this.stmt('INSERT INTO segment_transitions (workspace_id, segment_id, contact_id, kind, at) VALUES (?, ?, ?, ?, ?)');
      const push = (segmentId: string, on: 'enter' | 'exit'): void => {
        const id = Number(record.run(c.workspaceId, segmentId, c.contactId, on, c.now).lastInsertRowid);
        transitions.push({ id: `sgt_${id}`, workspaceId: c.workspaceId, segmentId, contactId: c.contactId, on, at: c.now });
      };
      for (const s of c.enter) {
        const info = this.stmt('INSERT INTO segment_members (segment_id, contact_id, entered_at) SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM segments WHERE id = ?) ON CONFLICT DO NOTHING')
          .run(s, c.contactId, c.now, s);
        if (info.changes === 1) push(s, 'enter');
      }
      for (const s of c.exit) {
        const info = this.stmt('DELETE FROM segment_members WHERE segment_id = ? AND contact_id = ?').run(s, c.contactId);
        if (info.changes === 1) push(s, 'exit');
      }
      if (transitions.length && c.delivery) {
        this.stmt(`INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at) VALUES (?, ?, ?, ${JOB_STATUS.queued}, ?, ?, ?) ON CONFLICT DO NOTHING`)
          .run(c.delivery.kind, transitions[0]!.id, JSON.stringify({ transitions }), c.now, c.delivery.maxAttempts, c.now);
      }
      return { applied: true, transitions };
    }));
  }

  async stalledBuilds(input: { before: number; backfillKind: string; limit: number }): Promise<StalledBuild[]> {
    const rows = this.stmt(STALLED_BUILDS_SQL).all(input.before, input.backfillKind, input.limit) as { workspace_id: string; id: string; version: number }[];
    return rows.map((r) => ({ workspaceId: r.workspace_id, id: r.id, version: r.version }));
  }

  async hitKeys(): Promise<string[]> {
    return this.stmt(HIT_KEYS_SQL).pluck().all() as string[];
  }

  async pruneHits(nodeKey: string, before: number, limit: number): Promise<number> {
    // Unsynced: a delete lost to a power cut is made again by the next upkeep.
    return this.sync.unsynced(() => this.write(() =>
      this.stmt(PRUNE_HITS_SQL).run(nodeKey, before, limit).changes,
    ));
  }
}
