import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { DEFAULT_CONTACT_STATUS, isStandardProperty, propertyType } from '../../core/contact.js';
import { ContactLimitError, mergeWithinLimits, type PropertyClock, type Refusal } from '../../core/merge-properties.js';
import type { JsonObject } from '../../core/types.js';
import type { ContactCursor, ContactErasure, ContactMutation, ContactQuery, ContactRecord, ContactStore, PropertyProvenance } from '../../contacts/contact-store.port.js';
import type { Page } from '../../core/cursor.js';
import { type Branch, DEFAULT_READ_BOUNDS, MAX_PROPERTY_NAMES, type ReadBounds, type ReadTrace, contactBefore, mergePage, scanBranch } from '../read-bounds.js';
import { SqliteReads } from './reads.sqlite.js';
import { API_SEQ, clockSeqs, contactMergeOf, mergeStateOf, provenanceOf, toContactRecord, withoutEmail, type ContactRow } from '../rows.js';
import { isUniqueViolation, sqliteFailure } from './errors.sqlite.js';
import { EVENT_STATUS } from '../shared/status.js';

/**
 * Shared SQL helpers for contacts, used by the contact store and the queue's apply step. One
 * instance per connection: its cache of recorded property types must see every write, or a
 * type written by one path is skipped by the other (GET /v1/contacts/properties would lie).
 */
export class SqliteContactWriter {
  private readonly byEmail: Database.Statement;
  private readonly insertStmt: Database.Statement;
  private readonly updateStmt: Database.Statement;
  private readonly nameStmt: Database.Statement;
  private readonly moveQueuedStmt: Database.Statement;
  private readonly moveFailedStmt: Database.Statement;
  private readonly seenNames = new Map<string, string>();

  constructor(db: Database.Database) {
    this.byEmail = db.prepare('SELECT * FROM contacts WHERE workspace_id = ? AND email = ?');
    this.insertStmt = db.prepare(`INSERT INTO contacts (id, workspace_id, email, properties, clocks, status, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    this.updateStmt = db.prepare(
      'UPDATE contacts SET email = ?, properties = ?, clocks = ?, status = ?, updated_at = ? WHERE id = ?',
    );
    // Remember custom property names and their latest type, for GET /v1/contacts/properties.
    this.nameStmt = db.prepare(`INSERT INTO contact_property_names (workspace_id, name, type) VALUES (?, ?, ?)
      ON CONFLICT (workspace_id, name) DO UPDATE SET type = excluded.type WHERE type <> excluded.type`);
    // Moving a contact's email takes along the events of the old address not applied yet:
    // queued ones (through the queue index; their lease is released, so a worker holding one
    // fails its ownership check and skips it, and the next claim applies it under the new
    // email) and failed ones (never linked to a contact; through events_by_email).
    this.moveQueuedStmt = db.prepare(`UPDATE events INDEXED BY events_queue SET email = ?, lease_owner = NULL, lease_until = 0
      WHERE status = ${EVENT_STATUS.queued} AND workspace_id = ? AND email = ?`);
    this.moveFailedStmt = db.prepare(`UPDATE events SET email = ?
      WHERE workspace_id = ? AND email = ? AND status <> ${EVENT_STATUS.queued} AND contact_id IS NULL`);
  }

  findByEmail(workspaceId: string, email: string): ContactRow | undefined {
    return this.byEmail.get(workspaceId, email) as ContactRow | undefined;
  }

  /**
   * Merges the patches, each at its clock, into the contact (created if missing), within the
   * contact's limits; returns the row written and, per patch, the keys refused. The stored
   * JSON is parsed once and written once whatever the number of patches. `atomic` (API
   * writes): a refusal throws ContactLimitError and nothing is written.
   */
  mergeInto(
    workspaceId: string,
    email: string,
    existing: ContactRow | undefined,
    patches: { patch: JsonObject; clock: PropertyClock }[],
    now: number,
    opts: { atomic?: boolean } = {},
  ): { row: ContactRow; created: boolean; refused: Refusal[][] } {
    const merge = contactMergeOf(existing, email);
    const refused = mergeWithinLimits(merge, patches, opts);
    patches.forEach(({ patch }, i) => this.recordNames(workspaceId, patch, refused[i]!));
    const { properties, clocks } = merge;
    const status = String(properties.status ?? DEFAULT_CONTACT_STATUS);
    if (!existing) {
      const row: ContactRow = {
        id: randomUUID(),
        workspace_id: workspaceId,
        email,
        properties: JSON.stringify(properties),
        clocks: JSON.stringify(clocks),
        status,
        created_at: now,
        updated_at: now,
      };
      this.insertStmt.run(row.id, row.workspace_id, row.email, row.properties, row.clocks, row.status, now, now);
      return { row, created: true, refused };
    }
    if (!merge.changed) return { row: existing, created: false, refused };
    const row: ContactRow = {
      ...existing,
      properties: JSON.stringify(properties),
      clocks: JSON.stringify(clocks),
      status,
      updated_at: now,
    };
    this.updateStmt.run(row.email, row.properties, row.clocks, row.status, now, row.id);
    return { row, created: false, refused };
  }

  /**
   * Gives the contact a new email. The old address's unapplied events are this contact's
   * (they would have been applied to it had the worker got there first), so they move with
   * it: applied to it, erased with it, never recreating the old address.
   */
  moveEmail(row: ContactRow, email: string, now: number): ContactRow {
    const properties = { ...(JSON.parse(row.properties) as JsonObject), email };
    const moved = { ...row, email, properties: JSON.stringify(properties), updated_at: now };
    this.updateStmt.run(moved.email, moved.properties, moved.clocks, moved.status, now, moved.id);
    this.moveQueuedStmt.run(email, row.workspace_id, row.email);
    this.moveFailedStmt.run(email, row.workspace_id, row.email);
    return moved;
  }

  /** A refused key is not recorded: no contact has it. */
  private recordNames(workspaceId: string, patch: JsonObject, refused: Refusal[]): void {
    for (const name of Object.keys(patch)) {
      const value = patch[name];
      if (value === null || value === undefined || isStandardProperty(name)) continue;
      if (refused.length > 0 && refused.some((r) => r.key === name)) continue;
      const type = propertyType(value);
      // Most events repeat known names: remember what this connection wrote (bounded).
      const key = `${workspaceId}\u0000${name}`;
      if (this.seenNames.get(key) === type) continue;
      if (this.seenNames.size >= 10_000) this.seenNames.clear();
      this.seenNames.set(key, type);
      this.nameStmt.run(workspaceId, name, type);
    }
  }
}

export class SqliteContactStore implements ContactStore {
  private readonly writer: SqliteContactWriter;
  private readonly queuedDelete: Database.Statement;
  private readonly reads: SqliteReads;
  private readonly bounds: ReadBounds;

  constructor(
    private readonly db: Database.Database,
    /** Runs before an erasure deletes events: the dedup ledger must hold their keys on disk first. */
    private readonly beforeEventDelete: () => void = () => {},
    /** The connection's one contact writer, shared with the queue's merge (one name cache per connection). */
    writer?: SqliteContactWriter,
    opts: { readBounds?: ReadBounds; trace?: ReadTrace } = {},
  ) {
    this.writer = writer ?? new SqliteContactWriter(db);
    this.reads = new SqliteReads(db, opts.trace);
    this.bounds = opts.readBounds ?? DEFAULT_READ_BOUNDS;
    this.queuedDelete = db.prepare(`DELETE FROM events INDEXED BY events_queue WHERE status = ${EVENT_STATUS.queued} AND workspace_id = ? AND email = ?`);
  }

  async upsert(workspaceId: string, properties: JsonObject, now: number): Promise<ContactMutation> {
    const email = String(properties.email);
    try {
      return this.db.transaction((): ContactMutation => {
        const existing = this.writer.findByEmail(workspaceId, email);
        const patches = [{ patch: withoutEmail(properties), clock: [now, API_SEQ] as const }];
        const r = this.writer.mergeInto(workspaceId, email, existing, patches, now, { atomic: true });
        return { kind: 'ok', contact: toContactRecord(r.row), created: r.created };
      }).immediate();
    } catch (err) {
      if (err instanceof ContactLimitError) return { kind: 'limit', code: err.code, message: err.message };
      throw sqliteFailure(err);
    }
  }

  async get(workspaceId: string, id: string): Promise<ContactRecord | null> {
    // The primary key (`+` keeps the planner off (workspace_id, email), which would walk the workspace).
    const r = this.reads.get<ContactRow>('SELECT * FROM contacts WHERE id = ? AND +workspace_id = ?', [id, workspaceId]);
    return r ? toContactRecord(r) : null;
  }

  /**
   * Bounded like every read: one primary-key row, then one primary-key seek per event its
   * clocks name (at most one per property; the clocks are within CONTACT_TOO_LARGE), on one
   * snapshot so a merge in between cannot name an event the second read does not see.
   */
  async provenance(workspaceId: string, id: string): Promise<PropertyProvenance[] | null> {
    return this.reads.snapshot(() => {
      const r = this.reads.get<{ clocks: string }>('SELECT clocks FROM contacts WHERE workspace_id = ? AND id = ?', [workspaceId, id]);
      if (!r) return null;
      const rows = this.reads.all<{ id: number; message_id: string }>(
        'SELECT id, message_id FROM events WHERE workspace_id = ? AND id IN (SELECT value FROM json_each(?))',
        [workspaceId, JSON.stringify(clockSeqs(r.clocks))],
      );
      return provenanceOf(r.clocks, new Map(rows.map((e) => [e.id, e.message_id])));
    });
  }

  async findByEmail(workspaceId: string, email: string): Promise<ContactRecord | null> {
    const r = this.reads.get<ContactRow>('SELECT * FROM contacts WHERE workspace_id = ? AND email = ?', [workspaceId, email]);
    return r ? toContactRecord(r) : null;
  }

  async mergeState(workspaceId: string, email: string) {
    const r = this.reads.get<ContactRow>('SELECT * FROM contacts WHERE workspace_id = ? AND email = ?', [workspaceId, email]);
    return r ? mergeStateOf(r) : null;
  }

  async update(workspaceId: string, id: string, properties: JsonObject, now: number): Promise<ContactMutation> {
    try {
      return this.db.transaction((): ContactMutation => {
        let row = this.db.prepare('SELECT * FROM contacts WHERE workspace_id = ? AND id = ?').get(workspaceId, id) as
          | ContactRow
          | undefined;
        if (!row) return { kind: 'not_found' };
        const newEmail = typeof properties.email === 'string' ? properties.email : undefined;
        if (newEmail !== undefined && newEmail !== row.email) {
          const other = this.writer.findByEmail(workspaceId, newEmail);
          if (other) return { kind: 'conflict' };
          row = this.writer.moveEmail(row, newEmail, now);
        }
        // A refusal (ContactLimitError) rolls the move back with the rest.
        const patches = [{ patch: withoutEmail(properties), clock: [now, API_SEQ] as const }];
        const r = this.writer.mergeInto(workspaceId, row.email, row, patches, now, { atomic: true });
        return { kind: 'ok', contact: toContactRecord(r.row), created: false };
      }).immediate();
    } catch (err) {
      if (err instanceof ContactLimitError) return { kind: 'limit', code: err.code, message: err.message };
      if (isUniqueViolation(err)) return { kind: 'conflict' };
      throw sqliteFailure(err);
    }
  }

  async delete(workspaceId: string, by: { id: string } | { email: string }): Promise<ContactErasure | null> {
    try {
      this.beforeEventDelete();
      return this.db.transaction((): ContactErasure | null => {
        const row = (
          'id' in by
            ? this.db.prepare('SELECT * FROM contacts WHERE workspace_id = ? AND id = ?').get(workspaceId, by.id)
            : this.writer.findByEmail(workspaceId, by.email)
        ) as ContactRow | undefined;
        if (!row && 'id' in by) return null;
        const email = row ? row.email : (by as { email: string }).email;
        // Every event of the contact goes with it: processed ones by contact id, queued or
        // failed ones (not linked to any contact) by email. The dedup ledger keeps their
        // messageIds. Processed events of this email linked to another contact (one that
        // moved away from it) are that contact's and stay. Three deletes, each on its own
        // index: by contact (processed), by email (failed), and queued ones through the queue
        // index (INDEXED BY: left to itself the planner walks the workspace's whole history
        // in events_by_time; the queue index holds only queued rows, few when the worker
        // keeps up).
        let events = 0;
        if (row) events += this.db.prepare(`DELETE FROM events WHERE contact_id = ? AND status <> ${EVENT_STATUS.queued}`).run(row.id).changes;
        events += this.db
          .prepare(`DELETE FROM events WHERE workspace_id = ? AND email = ? AND status <> ${EVENT_STATUS.queued} AND contact_id IS NULL`)
          .run(workspaceId, email).changes;
        events += this.queuedDelete.run(workspaceId, email).changes;
        // Links of Segment ids to this address go too (identity_links_by_email): a later call
        // by a linked id is then held, not attached to a contact that was erased.
        this.db.prepare('DELETE FROM identity_links WHERE workspace_id = ? AND email = ?').run(workspaceId, email);
        if (!row) return events > 0 ? { contact: null, events } : null;
        this.db.prepare('DELETE FROM contacts WHERE id = ?').run(row.id);
        return { contact: toContactRecord(row), events };
      }).immediate();
    } catch (err) {
      throw sqliteFailure(err);
    }
  }

  /**
   * One index seek bounded by the limit (read-bounds.ts): contacts_by_status with a status,
   * else contacts_by_created; a search (a substring, which no index serves) is tested on at
   * most scanBudget contacts per page, and a page that ran out of budget ends where it stopped.
   */
  async list(q: ContactQuery): Promise<Page<ContactRecord, ContactCursor>> {
    const desc = q.sort === 'createdAt.desc';
    const dir = desc ? 'DESC' : 'ASC';
    const want = q.limit + 1;
    const from = `contacts INDEXED BY ${q.status ? 'contacts_by_status' : 'contacts_by_created'}`;
    const conds = ['workspace_id = ?'];
    const args: unknown[] = [q.workspaceId];
    if (q.status) {
      conds.push('status = ?');
      args.push(q.status);
    }
    if (q.after) {
      // Keyset paging on (created_at, id): one row-value range on the index.
      conds.push(`(created_at, id) ${desc ? '<' : '>'} (?, ?)`);
      args.push(q.after.createdAt, q.after.id);
    }
    const where = `WHERE ${conds.join(' AND ')} ORDER BY created_at ${dir}, id ${dir} LIMIT ?`;
    let branch: Branch<ContactRecord, ContactCursor>;
    if (!q.search) {
      const rows = this.reads.all<ContactRow>(`SELECT * FROM ${from} ${where}`, [...args, want]).map(toContactRecord);
      branch = { rows, stop: rows.length >= want ? contactKey(rows[rows.length - 1]!) : null };
    } else {
      const like = `%${q.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const hit = `(email LIKE ? ESCAPE '\\'
        OR lower(json_extract(properties, '$.firstName')) LIKE ? ESCAPE '\\'
        OR lower(json_extract(properties, '$.lastName')) LIKE ? ESCAPE '\\')`;
      const ids: string[] = [];
      let examined = 0;
      let last: ContactCursor | null = null;
      const budget = this.bounds.scanBudget;
      for (const r of this.reads.iterate<{ id: string; created_at: number; hit: number }>(`SELECT id, created_at, ${hit} AS hit FROM ${from} ${where}`, [
        like,
        like,
        like,
        ...args,
        budget,
      ])) {
        examined++;
        last = { createdAt: r.created_at, id: r.id };
        if (r.hit && ids.push(r.id) >= want) break;
      }
      branch = scanBranch(this.byIds(ids), examined, last, budget, want);
    }
    return mergePage([branch], contactKey, contactBefore(desc), q.limit);
  }

  /** Contacts by id, in the order of `ids` (one erased since the scan is left out). */
  private byIds(ids: string[]): ContactRecord[] {
    if (ids.length === 0) return [];
    const rows = this.reads.all<ContactRow>('SELECT * FROM contacts WHERE id IN (SELECT value FROM json_each(?))', [JSON.stringify(ids)]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.flatMap((id) => {
      const r = byId.get(id);
      return r ? [toContactRecord(r)] : [];
    });
  }

  async listPropertyNames(workspaceId: string): Promise<{ name: string; type: string }[]> {
    return this.reads.all<{ name: string; type: string }>('SELECT name, type FROM contact_property_names WHERE workspace_id = ? ORDER BY name LIMIT ?', [
      workspaceId,
      MAX_PROPERTY_NAMES,
    ]);
  }
}

const contactKey = (c: ContactRecord): ContactCursor => ({ createdAt: c.createdAt, id: c.id });
