import { randomUUID } from 'node:crypto';
import { DEFAULT_CONTACT_STATUS, isStandardProperty, propertyType } from '../../core/contact.js';
import { mergeProperties, type ContactState, type PropertyClock } from '../../core/merge-properties.js';
import type { JsonObject } from '../../core/types.js';
import type { ContactMutation, ContactQuery, ContactRecord, ContactStore } from '../ports.js';
import type { PgDatabase, Queryable } from './database.postgres.js';
import { isUniqueViolation } from './errors.postgres.js';

export interface ContactRow {
  id: string;
  workspace_id: string;
  email: string;
  properties: string;
  clocks: string;
  status: string;
  created_at: number;
  updated_at: number;
}

/** API writes happen "at the time of the call" and win ties against events of the same millisecond (as in SQLite). */
const API_SEQ = Number.MAX_SAFE_INTEGER;

/** How often a transaction re-reads a contact that changed under it (created, moved or erased concurrently). */
const RACE_ATTEMPTS = 5;

export interface TimedPatch {
  patch: JsonObject;
  clock: PropertyClock;
}

function toContactRecord(r: ContactRow): ContactRecord {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    email: r.email,
    properties: JSON.parse(r.properties) as JsonObject,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function stateOf(r: ContactRow): ContactState {
  return {
    properties: JSON.parse(r.properties) as JsonObject,
    clocks: JSON.parse(r.clocks) as Record<string, PropertyClock>,
  };
}

function newContactState(email: string): ContactState {
  return { properties: { email, status: DEFAULT_CONTACT_STATUS }, clocks: {} };
}

function withoutEmail(properties: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(properties)) if (k !== 'email') out[k] = properties[k]!;
  return out;
}

function mergeAll(state: ContactState, patches: TimedPatch[]): { state: ContactState; changed: boolean } {
  let changed = false;
  for (const { patch, clock } of patches) {
    const r = mergeProperties(state, patch, clock);
    state = r.state;
    changed ||= r.changed;
  }
  return { state, changed };
}

function statusOf(state: ContactState): string {
  return String(state.properties.status ?? DEFAULT_CONTACT_STATUS);
}

/** Raised inside a transaction when a row it read changed before it could lock it; the caller starts over. */
class ContactChangedError extends Error {}

/**
 * Contact writes shared by the contact store (API calls) and the queue's apply step. Every
 * method runs inside the caller's transaction. Lock order, for every transaction that takes
 * more than one kind of row lock: events (ascending id), then the contact, then property
 * names. Waits then never form a cycle, so applying, erasing and editing contacts at once
 * cannot deadlock.
 */
export class PgContactWriter {
  /** Reads and row-locks the contact until the transaction ends. */
  async lockByEmail(tx: Queryable, workspaceId: string, email: string): Promise<ContactRow | undefined> {
    const { rows } = await tx.query<ContactRow>(
      'SELECT * FROM contacts WHERE workspace_id = $1 AND email = $2 FOR UPDATE',
      [workspaceId, email],
      'contact_lock_by_email',
    );
    return rows[0];
  }

  /**
   * Insert-or-lock, then merge: the contact of `email` (created if missing) gets `patches`,
   * each applied by its clock, and stays locked for the rest of the transaction. With the
   * row lock held from read to write, two workers merging into one contact serialise, and
   * neither update is lost.
   */
  async mergeByEmail(
    tx: Queryable,
    workspaceId: string,
    email: string,
    patches: TimedPatch[],
    now: number,
  ): Promise<{ row: ContactRow; created: boolean }> {
    for (let attempt = 0; attempt < RACE_ATTEMPTS; attempt++) {
      const existing = await this.lockByEmail(tx, workspaceId, email);
      if (existing) return { row: await this.mergeInto(tx, existing, existing.email, patches, now), created: false };
      const { state } = mergeAll(newContactState(email), patches);
      const row: ContactRow = {
        id: randomUUID(),
        workspace_id: workspaceId,
        email,
        properties: JSON.stringify(state.properties),
        clocks: JSON.stringify(state.clocks),
        status: statusOf(state),
        created_at: now,
        updated_at: now,
      };
      // DO NOTHING (no error, no aborted transaction) when another transaction created this
      // contact since our SELECT: it waits for that one to commit, then we loop, lock the
      // committed row and merge into it.
      const ins = await tx.query(
        `INSERT INTO contacts (id, workspace_id, email, properties, clocks, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (workspace_id, email) DO NOTHING`,
        [row.id, row.workspace_id, row.email, row.properties, row.clocks, row.status, now, now],
        'contact_insert',
      );
      if (ins.rowCount === 1) {
        await this.recordNames(tx, workspaceId, patches);
        return { row, created: true };
      }
    }
    throw new Error(`contact ${email} kept changing while being merged`);
  }

  /** Merges into a row this transaction has locked; `email` differs from the row's when moving it. */
  async mergeInto(tx: Queryable, row: ContactRow, email: string, patches: TimedPatch[], now: number): Promise<ContactRow> {
    const moved = email !== row.email;
    const base = stateOf(row);
    if (moved) base.properties = { ...base.properties, email };
    const { state, changed } = mergeAll(base, patches);
    await this.recordNames(tx, row.workspace_id, patches);
    if (!changed && !moved) return row;
    const out: ContactRow = {
      ...row,
      email,
      properties: JSON.stringify(state.properties),
      clocks: JSON.stringify(state.clocks),
      status: statusOf(state),
      updated_at: now,
    };
    await tx.query(
      'UPDATE contacts SET email = $1, properties = $2, clocks = $3, status = $4, updated_at = $5 WHERE id = $6',
      [out.email, out.properties, out.clocks, out.status, now, out.id],
      'contact_update',
    );
    return out;
  }

  /**
   * Remembers custom property names and their latest type, for GET /v1/contacts/properties.
   * New names are inserted with DO NOTHING, which takes no lock on an existing row, so
   * workers writing the same names do not queue behind each other until commit (DO UPDATE
   * would lock every one). An existing name is rewritten only when its type changed. Names
   * go in sorted, so transactions adding the same new names take them in one order.
   */
  private async recordNames(tx: Queryable, workspaceId: string, patches: TimedPatch[]): Promise<void> {
    // As in SQLite: every patch counts (applied or not), the last one's type wins.
    const types = new Map<string, string>();
    for (const { patch } of patches) {
      for (const name of Object.keys(patch)) {
        const value = patch[name];
        if (value === null || value === undefined || isStandardProperty(name)) continue;
        types.set(name, propertyType(value));
      }
    }
    if (types.size === 0) return;
    const names = [...types.keys()].sort();
    await tx.query(
      `WITH v AS (SELECT * FROM unnest($2::text[], $3::text[]) AS v(name, type)),
       ins AS (
         INSERT INTO contact_property_names (workspace_id, name, type)
         SELECT $1, name, type FROM v ORDER BY name
         ON CONFLICT (workspace_id, name) DO NOTHING)
       UPDATE contact_property_names n SET type = v.type FROM v
       WHERE n.workspace_id = $1 AND n.name = v.name AND n.type <> v.type`,
      [workspaceId, names, names.map((n) => types.get(n)!)],
      'contact_record_names',
    );
  }
}

export class PostgresContactStore implements ContactStore {
  private readonly writer = new PgContactWriter();

  constructor(private readonly db: PgDatabase) {}

  async upsert(workspaceId: string, properties: JsonObject, now: number): Promise<ContactMutation> {
    const email = String(properties.email);
    const r = await this.db.transaction((tx) =>
      this.writer.mergeByEmail(tx, workspaceId, email, [{ patch: withoutEmail(properties), clock: [now, API_SEQ] }], now),
    );
    return { kind: 'ok', contact: toContactRecord(r.row), created: r.created };
  }

  async get(workspaceId: string, id: string): Promise<ContactRecord | null> {
    const { rows } = await this.db.query<ContactRow>('SELECT * FROM contacts WHERE workspace_id = $1 AND id = $2', [
      workspaceId,
      id,
    ]);
    return rows[0] ? toContactRecord(rows[0]) : null;
  }

  async findByEmail(workspaceId: string, email: string): Promise<ContactRecord | null> {
    const { rows } = await this.db.query<ContactRow>('SELECT * FROM contacts WHERE workspace_id = $1 AND email = $2', [
      workspaceId,
      email,
    ]);
    return rows[0] ? toContactRecord(rows[0]) : null;
  }

  async update(workspaceId: string, id: string, properties: JsonObject, now: number): Promise<ContactMutation> {
    try {
      return await this.db.transaction(async (tx): Promise<ContactMutation> => {
        const { rows } = await tx.query<ContactRow>('SELECT * FROM contacts WHERE workspace_id = $1 AND id = $2 FOR UPDATE', [
          workspaceId,
          id,
        ]);
        const row = rows[0];
        if (!row) return { kind: 'not_found' };
        const newEmail = typeof properties.email === 'string' ? properties.email : row.email;
        if (newEmail !== row.email) {
          const other = await tx.query('SELECT 1 FROM contacts WHERE workspace_id = $1 AND email = $2', [workspaceId, newEmail]);
          if (other.rowCount > 0) return { kind: 'conflict' };
          // A contact created with that email after this check makes the UPDATE fail on
          // the (workspace_id, email) unique key: a conflict too (caught below).
        }
        const out = await this.writer.mergeInto(tx, row, newEmail, [{ patch: withoutEmail(properties), clock: [now, API_SEQ] }], now);
        return { kind: 'ok', contact: toContactRecord(out), created: false };
      });
    } catch (err) {
      if (isUniqueViolation(err)) return { kind: 'conflict' };
      throw err;
    }
  }

  /**
   * Erases the contact and every event of it. Locks in the order of the apply step (events,
   * ascending id, then the contact), so it cannot deadlock with a worker applying events to
   * this contact: it waits for that worker to commit, then erases what it wrote, or the
   * worker finds its events gone and skips them. Either way the contact does not come back.
   */
  async delete(workspaceId: string, by: { id: string } | { email: string }): Promise<ContactRecord | null> {
    for (let attempt = 0; attempt < RACE_ATTEMPTS; attempt++) {
      try {
        return await this.db.transaction(async (tx): Promise<ContactRecord | null> => {
          // Unlocked read, only to learn the contact's id and email.
          const { rows } = await tx.query<ContactRow>(
            `SELECT * FROM contacts WHERE workspace_id = $1 AND ${'id' in by ? 'id' : 'email'} = $2`,
            [workspaceId, 'id' in by ? by.id : by.email],
          );
          const seen = rows[0];
          if (!seen) return null;
          // Every event of the contact goes with it: processed ones by contact id, queued or
          // failed ones (not yet linked) by email. The dedup ledger keeps their messageIds.
          // First lock them in ascending id, the apply step's order...
          await tx.query('SELECT id FROM events WHERE workspace_id = $1 AND (contact_id = $2 OR email = $3) ORDER BY id FOR UPDATE', [
            workspaceId,
            seen.id,
            seen.email,
          ]);
          // ...then delete by the same condition, which also sweeps events appended since.
          await tx.query('DELETE FROM events WHERE workspace_id = $1 AND (contact_id = $2 OR email = $3)', [
            workspaceId,
            seen.id,
            seen.email,
          ]);
          // The contact, if it still has the email we read; a PUT that moved it in between
          // would leave the new email's events behind, so start over.
          const del = await tx.query<ContactRow>('DELETE FROM contacts WHERE id = $1 AND email = $2 RETURNING *', [
            seen.id,
            seen.email,
          ]);
          if (!del.rows[0]) throw new ContactChangedError();
          return toContactRecord(del.rows[0]);
        });
      } catch (err) {
        if (err instanceof ContactChangedError) continue;
        throw err;
      }
    }
    throw new Error('contact kept changing while being erased');
  }

  async list(q: ContactQuery): Promise<ContactRecord[]> {
    const args: unknown[] = [q.workspaceId];
    const arg = (v: unknown): string => `$${args.push(v)}`;
    const where = ['workspace_id = $1'];
    if (q.status) where.push(`status = ${arg(q.status)}`);
    if (q.search) {
      const like = arg(`%${q.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      // Case-insensitive substring of email, firstName or lastName. properties is JSON text:
      // the ::json cast only validates (no JSONB conversion) before ->> reads the field.
      where.push(`(lower(email) LIKE ${like}
        OR lower(properties::json ->> 'firstName') LIKE ${like}
        OR lower(properties::json ->> 'lastName') LIKE ${like})`);
    }
    const desc = q.sort === 'createdAt.desc';
    if (q.after) {
      // Keyset paging on (created_at, id), one range condition on contacts_by_created.
      where.push(`(created_at, id) ${desc ? '<' : '>'} (${arg(q.after.createdAt)}, ${arg(q.after.id)})`);
    }
    const dir = desc ? 'DESC' : 'ASC';
    const { rows } = await this.db.query<ContactRow>(
      `SELECT * FROM contacts WHERE ${where.join(' AND ')} ORDER BY created_at ${dir}, id ${dir} LIMIT ${arg(q.limit)}`,
      args,
    );
    return rows.map(toContactRecord);
  }

  async listPropertyNames(workspaceId: string): Promise<{ name: string; type: string }[]> {
    const { rows } = await this.db.query<{ name: string; type: string }>(
      'SELECT name, type FROM contact_property_names WHERE workspace_id = $1 ORDER BY name',
      [workspaceId],
    );
    return rows;
  }
}
