import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { EVENT_STATUS } from '../shared/status.js';

/** Keys held in memory before a merge starts (~100 bytes each). */
const MERGE_AT = 50_000;
/** A smaller set is merged once it is this old, at the next append. */
const MERGE_EVERY_MS = 2_000;
/** Keys written per merge transaction; appends commit between slices. */
const SLICE = 2_000;

interface Entry {
  h2: bigint;
  at: number;
  /** events.id of the event accepted with this key (0 until inserted, or unknown). */
  id: number;
}

/**
 * The dedup ledger of the embedded store, written like a small LSM tree.
 *
 * The ledger (`dedup`, keyed by 64 bits of SHA-256 of workspace and messageId) is a B-tree
 * in random key order. Inserting each accepted event's key in its append transaction
 * dirtied one random leaf page per event, and writing those pages to the WAL (and
 * checkpointing them) was ~85% of an append: measured on the writer alone with 400,000
 * stored events, 25,600 events/s with it against 173,000/s without.
 *
 * So keys of newly accepted events live in memory (`recent`) and are merged into the B-tree
 * in sorted slices every few seconds, where consecutive keys share leaf pages. A lookup
 * checks memory, then the B-tree. Nothing is lost on `kill -9`: the events table holds
 * every accepted event's workspace and messageId, and `dedup_state.merged_upto` says which
 * events' keys the B-tree holds, so the keys of later ones are rebuilt at startup. Erasing
 * a contact deletes events, so it merges everything first (`mergeAll`).
 *
 * One process appends to a database file (the writer thread of `smashsend serve`), so the
 * in-memory part is complete.
 *
 * Each entry also names the event its messageId was accepted for (`event_id`), so a read by
 * messageId can find a queued event without scanning the queue (read-bounds.ts): in memory
 * here (`recentEventId`, asked of the writer thread), else in the B-tree (read by
 * event-reads.sqlite.ts). It costs the append nothing measurable (written with the merge, a
 * few bytes per key): writer alone, 200-event appends up to 100,000 events, four alternating
 * runs, 21,600–28,500 events/s with it against 19,600–28,700 without, 27–30 µs of CPU per
 * event both.
 */
export class SqliteDedupLedger {
  private recent = new Map<bigint, Entry>();
  private recentSince = 0;
  /** The merge in progress: sorted keys, how many are written, and the last event id they cover. */
  private merging: { keys: [bigint, Entry][]; map: Map<bigint, Entry>; pos: number; upto: number } | null = null;
  /** Undo log of the append transaction in progress: [key, entry before it]. */
  private journal: [bigint, Entry | undefined][] | null = null;
  /** What the last successful reserve() took, for inserted() to record the event's id. */
  private reserved: Entry | { workspaceId: string; messageId: string } | null = null;
  private loaded = false;
  private lastId = 0;
  private sliceScheduled = false;

  private readonly lookupStmt: Database.Statement;
  private readonly reserveCollision: Database.Statement;
  private readonly lookupCollision: Database.Statement;
  private readonly upsertStmt: Database.Statement;
  private readonly setUpto: Database.Statement;
  private readonly collisionIdStmt: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly inTransaction: <T>(fn: () => T) => T,
  ) {
    this.lookupStmt = db.prepare('SELECT h2, accepted_at FROM dedup WHERE h = ?').safeIntegers(true);
    this.reserveCollision = db.prepare(`INSERT INTO dedup_collisions (workspace_id, message_id, accepted_at) VALUES (?, ?, ?)
      ON CONFLICT (workspace_id, message_id) DO UPDATE SET accepted_at = excluded.accepted_at
      WHERE dedup_collisions.accepted_at <= ?`);
    this.lookupCollision = db.prepare('SELECT accepted_at FROM dedup_collisions WHERE workspace_id = ? AND message_id = ?').pluck();
    this.upsertStmt = db.prepare(`INSERT INTO dedup (h, h2, accepted_at, event_id) VALUES (?, ?, ?, ?)
      ON CONFLICT (h) DO UPDATE SET h2 = excluded.h2, accepted_at = excluded.accepted_at, event_id = excluded.event_id`);
    this.setUpto = db.prepare('UPDATE dedup_state SET merged_upto = ? WHERE id = 1');
    this.collisionIdStmt = db.prepare('UPDATE dedup_collisions SET event_id = ? WHERE workspace_id = ? AND message_id = ?');
  }

  static key(workspaceId: string, messageId: string): [bigint, bigint] {
    const d = createHash('sha256').update(workspaceId).update('\u0000').update(messageId).digest();
    return [d.readBigInt64BE(0), d.readBigInt64BE(8)];
  }

  /** Rebuilds the keys of events accepted after the last merge (after a restart or a crash). */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    const upto = (this.db.prepare('SELECT merged_upto FROM dedup_state WHERE id = 1').pluck().get() as number | undefined) ?? 0;
    const rows = this.db
      .prepare('SELECT id, workspace_id, message_id, received_at FROM events WHERE id > ? ORDER BY id')
      .iterate(upto) as IterableIterator<{ id: number; workspace_id: string; message_id: string; received_at: number }>;
    this.lastId = upto;
    for (const r of rows) {
      const [h, h2] = SqliteDedupLedger.key(r.workspace_id, r.message_id);
      this.recent.set(h, { h2, at: r.received_at, id: r.id });
      this.lastId = r.id;
    }
    this.lastId = Math.max(this.lastId, (this.db.prepare('SELECT COALESCE(MAX(id), 0) FROM events').pluck().get() as number) ?? 0);
    this.recentSince = Date.now();
  }

  /** Call at the start of an append transaction; `rollback` or `commit` at its end. */
  begin(): void {
    this.load();
    this.journal = [];
    this.reserved = null;
  }

  rollback(): void {
    const j = this.journal ?? [];
    for (let i = j.length - 1; i >= 0; i--) {
      const [h, prev] = j[i]!;
      if (prev) this.recent.set(h, prev);
      else this.recent.delete(h);
    }
    this.journal = null;
  }

  /** After a committed append transaction: maybe start merging (one slice per event-loop turn). */
  commit(now: number): void {
    this.journal = null;
    if (this.merging !== null) this.scheduleSlice();
    else if (this.recent.size > 0 && (this.recent.size >= MERGE_AT || now - this.recentSince >= MERGE_EVERY_MS)) {
      this.startMerge();
    }
  }

  /** The id of the event just inserted for the messageId the last reserve() took. */
  inserted(id: number): void {
    this.lastId = id;
    const r = this.reserved;
    this.reserved = null;
    if (r === null) return;
    if ('id' in r) r.id = id;
    else this.collisionIdStmt.run(id, r.workspaceId, r.messageId);
  }

  /**
   * The event the in-memory part holds for this messageId, or null when the key is not in
   * memory (then the B-tree has it, or nothing does: event-reads.sqlite.ts). Only between
   * append transactions (the writer thread answers messages between them), so every id is
   * committed.
   */
  recentEventId(workspaceId: string, messageId: string): number | null {
    this.load();
    const [h, h2] = SqliteDedupLedger.key(workspaceId, messageId);
    const held = this.recent.get(h) ?? this.merging?.map.get(h);
    return held !== undefined && held.h2 === h2 && held.id > 0 ? held.id : null;
  }

  /**
   * True when the messageId is free (new, or its last acceptance is past the window), and
   * then it is reserved at `now`. Called inside the append transaction.
   */
  reserve(workspaceId: string, messageId: string, now: number, cutoff: number): boolean {
    const [h, h2] = SqliteDedupLedger.key(workspaceId, messageId);
    const held = this.recent.get(h) ?? this.merging?.map.get(h) ?? this.stored(h);
    if (held === undefined || held.at <= cutoff) {
      // Free, or held past the window (by this id or another one): taken over.
      this.journal?.push([h, this.recent.get(h)]);
      const entry: Entry = { h2, at: now, id: 0 };
      this.recent.set(h, entry);
      this.reserved = entry;
      return true;
    }
    if (held.h2 === h2) return false;
    // Two different ids share 64 bits (about 1 in 10^19 per pair): decide on the full key.
    if (this.reserveCollision.run(workspaceId, messageId, now, cutoff).changes !== 1) return false;
    this.reserved = { workspaceId, messageId };
    return true;
  }

  /** When the messageId's entry was accepted (memory, then the B-tree), or null. Outside any transaction. */
  acceptedAt(workspaceId: string, messageId: string): number | null {
    this.load();
    const [h, h2] = SqliteDedupLedger.key(workspaceId, messageId);
    const held = this.recent.get(h) ?? this.merging?.map.get(h) ?? this.stored(h);
    if (held === undefined) return null;
    if (held.h2 === h2) return held.at;
    const at = this.lookupCollision.get(workspaceId, messageId) as number | undefined;
    return at ?? null;
  }

  private stored(h: bigint): Entry | undefined {
    const r = this.lookupStmt.get(h) as { h2: bigint; accepted_at: bigint } | undefined;
    return r ? { h2: r.h2, at: Number(r.accepted_at), id: 0 } : undefined;
  }

  private startMerge(): void {
    const map = this.recent;
    const keys = [...map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.merging = { keys, map, pos: 0, upto: this.lastId };
    this.recent = new Map();
    this.recentSince = Date.now();
    this.scheduleSlice();
  }

  private scheduleSlice(): void {
    if (this.sliceScheduled) return;
    this.sliceScheduled = true;
    setImmediate(() => {
      this.sliceScheduled = false;
      try {
        this.mergeSlice();
        if (this.merging) this.scheduleSlice();
      } catch {
        // Busy or closed: the keys stay in memory, and the next append's commit() resumes.
      }
    });
  }

  private mergeSlice(): void {
    const m = this.merging;
    if (!m) return;
    const end = Math.min(m.pos + SLICE, m.keys.length);
    this.inTransaction(() => {
      for (let i = m.pos; i < end; i++) {
        const [h, e] = m.keys[i]!;
        this.upsertStmt.run(h, e.h2, e.at, e.id || null);
      }
      if (end === m.keys.length) this.setUpto.run(m.upto);
    });
    m.pos = end;
    if (end === m.keys.length) this.merging = null;
  }

  /** Writes every key held in memory to the B-tree, in its own transaction (before deleting events, and at close). */
  mergeAll(): void {
    if (!this.loaded) return;
    const all = new Map<bigint, Entry>();
    if (this.merging) for (let i = this.merging.pos; i < this.merging.keys.length; i++) all.set(...this.merging.keys[i]!);
    for (const [h, e] of this.recent) all.set(h, e);
    const keys = [...all.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const upto = this.lastId;
    this.inTransaction(() => {
      for (const [h, e] of keys) this.upsertStmt.run(h, e.h2, e.at, e.id || null);
      this.setUpto.run(upto);
    });
    this.merging = null;
    this.recent = new Map();
    this.recentSince = Date.now();
  }

  /** Keys held in memory, not yet in the B-tree (tests read it). */
  inMemory(): number {
    return this.recent.size + (this.merging ? this.merging.keys.length - this.merging.pos : 0);
  }
}

/**
 * After migration 0005 (dedup.event_id): names the event of every ledger entry whose event is
 * still queued, so reads by messageId find them too. Later entries get their id when merged,
 * and keys not merged yet are rebuilt with theirs. One pass over the queue, once.
 */
export function backfillLedgerEventIds(db: Database.Database): number {
  const rows = db
    .prepare(`SELECT id, workspace_id, message_id FROM events INDEXED BY events_queue
       WHERE status = ${EVENT_STATUS.queued} AND id <= (SELECT merged_upto FROM dedup_state WHERE id = 1)`)
    .all() as { id: number; workspace_id: string; message_id: string }[];
  const set = db.prepare('UPDATE dedup SET event_id = ? WHERE h = ? AND h2 = ?');
  const setCollision = db.prepare('UPDATE dedup_collisions SET event_id = ? WHERE workspace_id = ? AND message_id = ?');
  let n = 0;
  db.transaction(() => {
    for (const r of rows) {
      const [h, h2] = SqliteDedupLedger.key(r.workspace_id, r.message_id);
      n += set.run(r.id, h, h2).changes || setCollision.run(r.id, r.workspace_id, r.message_id).changes;
    }
  }).immediate();
  return n;
}
