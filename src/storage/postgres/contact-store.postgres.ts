import { randomUUID } from 'node:crypto';
import { DEFAULT_CONTACT_STATUS, isStandardProperty, propertyType } from '../../core/contact.js';
import { ContactLimitError, mergeWithinLimits, type ContactState, type PropertyClock, type Refusal } from '../../core/merge-properties.js';
import type { JsonObject, JsonValue } from '../../core/types.js';
import type { ContactCursor, ContactErasure, ContactMutation, ContactQuery, ContactRecord, ContactStore, PropertyProvenance } from '../../contacts/contact-store.port.js';
import type { Page } from '../../core/cursor.js';
import { type Branch, DEFAULT_READ_BOUNDS, MAX_PROPERTY_NAMES, type ReadBounds, type ReadTrace, contactBefore, mergePage, scanBranch } from '../read-bounds.js';
import { PgReads, placeholders } from './reads.postgres.js';
import { API_SEQ, clockSeqs, contactMergeOf, mergeStateOf, provenanceOf, toContactRecord, withoutEmail, type ContactRow as BaseContactRow } from '../rows.js';
import { TransactionRaceError, hasNul, type PgDatabase, type Queryable } from './database.postgres.js';
import { isUniqueViolation } from './errors.postgres.js';

export interface ContactRow extends BaseContactRow {
  search_first: string | null;
  search_last: string | null;
}


/** How often mergeByEmail re-reads a contact created concurrently before starting the transaction over. */
const RACE_ATTEMPTS = 3;

export interface TimedPatch {
  patch: JsonObject;
  clock: PropertyClock;
}

function statusOf(state: ContactState): string {
  return String(state.properties.status ?? DEFAULT_CONTACT_STATUS).replaceAll('\u0000', '');
}

/**
 * A property as contact search matches it: what SQLite's lower(json_extract(...)) yields
 * (text as is, numbers as digits, booleans as 1/0, objects and arrays as JSON), lower-cased,
 * without U+0000 (PostgreSQL text cannot hold it). Null when absent.
 */
function searchText(value: JsonValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'boolean') text = value ? '1' : '0';
  else if (typeof value === 'number') text = String(value);
  else text = JSON.stringify(value);
  return text.toLowerCase().replaceAll('\u0000', '');
}

/** A contact row carrying `state`: a new one (fresh id, created now) or `base` updated. */
export function rowWithState(
  base: ContactRow | { workspaceId: string; email: string },
  state: ContactState,
  now: number,
): ContactRow {
  const written = {
    properties: JSON.stringify(state.properties),
    clocks: JSON.stringify(state.clocks),
    status: statusOf(state),
    search_first: searchText(state.properties.firstName),
    search_last: searchText(state.properties.lastName),
    updated_at: now,
  };
  if ('id' in base) return { ...base, ...written };
  return { id: randomUUID(), workspace_id: base.workspaceId, email: base.email, created_at: now, ...written };
}

export function contactKey(workspaceId: string, email: string): string {
  return `${workspaceId}\u0000${email}`;
}

/**
 * Custom property names seen in a transaction's patches, written once at its end (see
 * PgContactWriter.recordNames). As in SQLite, every patch counts, applied or not, and the
 * last one's type wins.
 */
export class PropertyNames {
  private readonly types = new Map<string, { workspaceId: string; name: string; type: string }>();

  /** `refused[i]`: keys of `patches[i]` not applied (the contact's limits); no contact has them, so they are not recorded. */
  add(workspaceId: string, patches: TimedPatch[], refused: Refusal[][] = []): void {
    patches.forEach(({ patch }, i) => {
      const skip = refused[i] ?? [];
      for (const name of Object.keys(patch)) {
        const value = patch[name];
        if (value === null || value === undefined || isStandardProperty(name)) continue;
        if (skip.length > 0 && skip.some((r) => r.key === name)) continue;
        // Not storable in PostgreSQL text; one such key must not fail the whole batch.
        if (hasNul(name)) continue;
        this.types.set(contactKey(workspaceId, name), { workspaceId, name, type: propertyType(value) });
      }
    });
  }

  /** Sorted by (workspace, name): every transaction takes these rows in one order. */
  sorted(): { workspaceId: string; name: string; type: string }[] {
    return [...this.types.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }
}

/**
 * Contact writes shared by the contact store (API calls) and the queue's apply step. Every
 * method runs inside the caller's transaction.
 *
 * Lock order, for every transaction that takes more than one kind of row lock: events
 * (ascending id), then contacts (ascending workspace, email), then property names
 * (ascending workspace, name). Waits then never form a cycle, so applying, erasing and
 * editing contacts at once does not deadlock; should PostgreSQL still pick a deadlock
 * victim, the transaction is run again (PgDatabase.transaction).
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
   * Reads and row-locks the existing contacts of many (workspace, email) keys in one round
   * trip. ORDER BY ... FOR UPDATE takes the row locks in key order, the order every batch
   * uses, so two workers whose batches share contacts wait for each other instead of
   * deadlocking.
   */
  async lockMany(tx: Queryable, keys: { workspaceId: string; email: string }[]): Promise<Map<string, ContactRow>> {
    const { rows } = await tx.query<ContactRow>(
      `SELECT c.* FROM contacts c
       JOIN unnest($1::text[], $2::text[]) AS k(workspace_id, email) ON c.workspace_id = k.workspace_id AND c.email = k.email
       ORDER BY c.workspace_id, c.email
       FOR UPDATE OF c`,
      [keys.map((k) => k.workspaceId), keys.map((k) => k.email)],
      'contact_lock_many',
    );
    return new Map(rows.map((r) => [contactKey(r.workspace_id, r.email), r]));
  }

  /**
   * Inserts new contacts in key order; returns how many were inserted. A row another
   * transaction created since our read is skipped (DO NOTHING, after waiting for that
   * transaction to commit), not an error, so the caller can tell and start over.
   */
  async insertMany(tx: Queryable, rows: ContactRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const col = <K extends keyof ContactRow>(k: K): ContactRow[K][] => rows.map((r) => r[k]);
    const r = await tx.query(
      `INSERT INTO contacts (id, workspace_id, email, properties, clocks, status, search_first, search_last, created_at, updated_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[])
         AS v(id, workspace_id, email, properties, clocks, status, search_first, search_last, created_at, updated_at)
       ORDER BY v.workspace_id COLLATE "C", v.email COLLATE "C"
       ON CONFLICT (workspace_id, email) DO NOTHING`,
      [
        col('id'),
        col('workspace_id'),
        col('email'),
        col('properties'),
        col('clocks'),
        col('status'),
        col('search_first'),
        col('search_last'),
        col('created_at'),
        col('updated_at'),
      ],
      'contact_insert_many',
    );
    return r.rowCount;
  }

  /** Writes merged state (and email, when moved) back to contacts this transaction has locked. */
  async updateMany(tx: Queryable, rows: ContactRow[]): Promise<void> {
    if (rows.length === 0) return;
    const col = <K extends keyof ContactRow>(k: K): ContactRow[K][] => rows.map((r) => r[k]);
    await tx.query(
      `UPDATE contacts c SET email = v.email, properties = v.properties, clocks = v.clocks, status = v.status,
         search_first = v.search_first, search_last = v.search_last, updated_at = v.updated_at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[])
         AS v(id, email, properties, clocks, status, search_first, search_last, updated_at)
       WHERE c.id = v.id`,
      [col('id'), col('email'), col('properties'), col('clocks'), col('status'), col('search_first'), col('search_last'), col('updated_at')],
      'contact_update_many',
    );
  }

  /**
   * Insert-or-lock, then merge, for one contact: the contact of `email` (created if missing)
   * gets `patches`, each applied by its clock, and stays locked for the rest of the
   * transaction. With the row lock held from read to write, concurrent merges into one
   * contact serialise, and no update is lost.
   */
  async mergeByEmail(
    tx: Queryable,
    workspaceId: string,
    email: string,
    patches: TimedPatch[],
    now: number,
    opts: { atomic?: boolean } = {},
  ): Promise<{ row: ContactRow; created: boolean; refused: Refusal[][] }> {
    for (let attempt = 0; attempt < RACE_ATTEMPTS; attempt++) {
      const existing = await this.lockByEmail(tx, workspaceId, email);
      if (existing) return { ...(await this.mergeInto(tx, existing, existing.email, patches, now, opts)), created: false };
      const merge = contactMergeOf(undefined, email);
      const refused = mergeWithinLimits(merge, patches, opts);
      const row = rowWithState({ workspaceId, email }, merge.state, now);
      // Created by another transaction since our SELECT: loop, lock theirs and merge into it.
      if ((await this.insertMany(tx, [row])) === 1) return { row, created: true, refused };
    }
    throw new TransactionRaceError(`contact ${email} kept changing while being merged`);
  }

  /**
   * Merges into a row this transaction has locked, within the contact's limits (`atomic`: a
   * refusal throws ContactLimitError); `email` differs from the row's when moving it.
   */
  async mergeInto(
    tx: Queryable,
    row: ContactRow,
    email: string,
    patches: TimedPatch[],
    now: number,
    opts: { atomic?: boolean } = {},
  ): Promise<{ row: ContactRow; refused: Refusal[][] }> {
    const moved = email !== row.email;
    const merge = contactMergeOf(row, row.email);
    if (moved) merge.properties.email = email;
    const refused = mergeWithinLimits(merge, patches, opts);
    if (!merge.changed && !moved) return { row, refused };
    const out = rowWithState({ ...row, email }, merge.state, now);
    await this.updateMany(tx, [out]);
    return { row: out, refused };
  }

  /**
   * Remembers custom property names and their latest type, for GET /v1/contacts/properties.
   * Runs last in its transaction (the last lock it takes). New names are inserted with DO
   * NOTHING, which takes no lock on an existing row, so workers writing the same names do
   * not queue behind each other until commit (DO UPDATE would lock each one). Only a name
   * whose type changed is locked (in key order) and rewritten.
   */
  async recordNames(tx: Queryable, names: PropertyNames): Promise<void> {
    const list = names.sorted();
    if (list.length === 0) return;
    await tx.query(
      `WITH v AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS v(workspace_id, name, type, ord)),
       ins AS (
         INSERT INTO contact_property_names (workspace_id, name, type)
         SELECT workspace_id, name, type FROM v ORDER BY ord
         ON CONFLICT (workspace_id, name) DO NOTHING),
       changed AS (
         SELECT n.workspace_id, n.name, v.type FROM contact_property_names n
         JOIN v ON n.workspace_id = v.workspace_id AND n.name = v.name
         WHERE n.type <> v.type ORDER BY v.ord FOR UPDATE OF n)
       UPDATE contact_property_names n SET type = c.type FROM changed c
       WHERE n.workspace_id = c.workspace_id AND n.name = c.name`,
      [list.map((n) => n.workspaceId), list.map((n) => n.name), list.map((n) => n.type)],
      'contact_record_names',
    );
  }
}

export class PostgresContactStore implements ContactStore {
  private readonly writer = new PgContactWriter();

  private readonly reads: PgReads;
  private readonly bounds: ReadBounds;

  constructor(
    private readonly db: PgDatabase,
    opts: { readBounds?: ReadBounds; trace?: ReadTrace } = {},
  ) {
    this.reads = new PgReads(db, opts.trace);
    this.bounds = opts.readBounds ?? DEFAULT_READ_BOUNDS;
  }

  async upsert(workspaceId: string, properties: JsonObject, now: number): Promise<ContactMutation> {
    const email = String(properties.email);
    const patches: TimedPatch[] = [{ patch: withoutEmail(properties), clock: [now, API_SEQ] }];
    try {
      const r = await this.db.transaction(async (tx) => {
        const merged = await this.writer.mergeByEmail(tx, workspaceId, email, patches, now, { atomic: true });
        await this.recordNames(tx, workspaceId, patches);
        return merged;
      });
      return { kind: 'ok', contact: toContactRecord(r.row), created: r.created };
    } catch (err) {
      if (err instanceof ContactLimitError) return { kind: 'limit', code: err.code, message: err.message };
      throw err;
    }
  }

  private async recordNames(tx: Queryable, workspaceId: string, patches: TimedPatch[]): Promise<void> {
    const names = new PropertyNames();
    names.add(workspaceId, patches);
    await this.writer.recordNames(tx, names);
  }

  /**
   * Bounded like every read: one primary-key row, then the events its clocks name by
   * primary key (at most one per property; the clocks are within CONTACT_TOO_LARGE), on one
   * snapshot so a merge in between cannot name an event the second read does not see.
   */
  async provenance(workspaceId: string, id: string): Promise<PropertyProvenance[] | null> {
    if (hasNul(id)) return null;
    return this.reads.snapshot(async (r) => {
      const { rows } = await r.query<{ clocks: string }>('SELECT clocks FROM contacts WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
      if (!rows[0]) return null;
      const clocks = rows[0].clocks;
      const events = await r.query<{ id: string | number; message_id: string }>(
        'SELECT id, message_id FROM events WHERE workspace_id = $1 AND id = ANY($2::bigint[])',
        [workspaceId, clockSeqs(clocks)],
      );
      return provenanceOf(clocks, new Map(events.rows.map((e) => [Number(e.id), e.message_id])));
    });
  }

  async get(workspaceId: string, id: string): Promise<ContactRecord | null> {
    if (hasNul(id)) return null;
    const { rows } = await this.reads.query<ContactRow>('SELECT * FROM contacts WHERE workspace_id = $1 AND id = $2', [
      workspaceId,
      id,
    ]);
    return rows[0] ? toContactRecord(rows[0]) : null;
  }

  async findByEmail(workspaceId: string, email: string): Promise<ContactRecord | null> {
    if (hasNul(email)) return null;
    const { rows } = await this.reads.query<ContactRow>('SELECT * FROM contacts WHERE workspace_id = $1 AND email = $2', [
      workspaceId,
      email,
    ]);
    return rows[0] ? toContactRecord(rows[0]) : null;
  }

  async mergeState(workspaceId: string, email: string) {
    if (hasNul(email)) return null;
    const { rows } = await this.reads.query<ContactRow>('SELECT * FROM contacts WHERE workspace_id = $1 AND email = $2', [workspaceId, email]);
    return rows[0] ? mergeStateOf(rows[0]) : null;
  }

  async update(workspaceId: string, id: string, properties: JsonObject, now: number): Promise<ContactMutation> {
    if (hasNul(id)) return { kind: 'not_found' };
    try {
      return await this.db.transaction(async (tx): Promise<ContactMutation> => {
        const byId = [workspaceId, id];
        // A move locks the old address's events before the contact (the apply step's lock
        // order, see PgContactWriter), so it first learns that address from an unlocked read.
        let eventsLockedFor: string | null = null;
        if (typeof properties.email === 'string') {
          const { rows: seen } = await tx.query<ContactRow>('SELECT email FROM contacts WHERE workspace_id = $1 AND id = $2', byId);
          if (!seen[0]) return { kind: 'not_found' };
          if (seen[0].email !== properties.email) {
            const other = await tx.query('SELECT 1 FROM contacts WHERE workspace_id = $1 AND email = $2', [workspaceId, properties.email]);
            if (other.rowCount > 0) return { kind: 'conflict' };
            // A contact created with that email after this check makes the UPDATE fail on
            // the (workspace_id, email) unique key: a conflict too (caught below).
            await tx.query('SELECT id FROM events WHERE workspace_id = $1 AND email = $2 AND contact_id IS NULL ORDER BY id FOR UPDATE', [
              workspaceId,
              seen[0].email,
            ]);
            eventsLockedFor = seen[0].email;
          }
        }
        const { rows } = await tx.query<ContactRow>('SELECT * FROM contacts WHERE workspace_id = $1 AND id = $2 FOR UPDATE', byId);
        const row = rows[0];
        if (!row) return { kind: 'not_found' };
        const newEmail = typeof properties.email === 'string' ? properties.email : row.email;
        if (newEmail !== row.email) {
          // Moved by another call since the unlocked read: the events locked are not this address's.
          if (eventsLockedFor !== row.email) throw new TransactionRaceError('contact moved while being updated');
          // The old address's unapplied events (queued, failed) are this contact's: they move
          // with it, so they are applied to it and erased with it instead of recreating the
          // old address. A released lease makes a worker holding one of them skip it (its
          // lock step re-checks lease_owner); the next claim applies it under the new email.
          await tx.query(
            `UPDATE events SET email = $3, lease_owner = NULL, lease_until = 0
             WHERE workspace_id = $1 AND email = $2 AND contact_id IS NULL`,
            [workspaceId, row.email, newEmail],
          );
        }
        const patches: TimedPatch[] = [{ patch: withoutEmail(properties), clock: [now, API_SEQ] }];
        // A refusal (ContactLimitError) rolls the move back with the rest.
        const { row: out } = await this.writer.mergeInto(tx, row, newEmail, patches, now, { atomic: true });
        await this.recordNames(tx, workspaceId, patches);
        return { kind: 'ok', contact: toContactRecord(out), created: false };
      });
    } catch (err) {
      if (err instanceof ContactLimitError) return { kind: 'limit', code: err.code, message: err.message };
      if (isUniqueViolation(err)) return { kind: 'conflict' };
      throw err;
    }
  }

  /**
   * Erases the contact and every event of it. Locks in the order of the apply step (events,
   * ascending id, then the contact), so it cannot deadlock with a worker applying events to
   * this contact: it waits for that worker to commit, then erases what it wrote, or the
   * worker finds its events gone and skips them. Either way the contact does not come back.
   * By email, an address with no contact yet has its unapplied events erased the same way.
   */
  async delete(workspaceId: string, by: { id: string } | { email: string }): Promise<ContactErasure | null> {
    if (hasNul('id' in by ? by.id : by.email)) return null;
    return this.db.transaction(async (tx): Promise<ContactErasure | null> => {
      // Unlocked read, only to learn the contact's id and email.
      const { rows } = await tx.query<ContactRow>(
        `SELECT * FROM contacts WHERE workspace_id = $1 AND ${'id' in by ? 'id' : 'email'} = $2`,
        [workspaceId, 'id' in by ? by.id : by.email],
      );
      const seen = rows[0];
      if (!seen) return 'id' in by ? null : this.eraseUnapplied(tx, workspaceId, by.email);
      const args = [workspaceId, seen.id, seen.email];
      // Every event of the contact goes with it: processed ones by contact id, queued or
      // failed ones (not linked to any contact) by email. The dedup ledger keeps their
      // messageIds. Processed events of this email linked to another contact (one that moved
      // away from it) are that contact's and stay. First lock them in ascending id, the
      // apply step's order...
      const which = 'workspace_id = $1 AND (contact_id = $2 OR (email = $3 AND contact_id IS NULL))';
      await tx.query(`SELECT id FROM events WHERE ${which} ORDER BY id FOR UPDATE`, args);
      // ...then delete by the same condition, which also sweeps events appended since.
      const erased = await tx.query(`DELETE FROM events WHERE ${which}`, args);
      await this.eraseLinks(tx, workspaceId, seen.email);
      // The contact, if it still has the email we read. A PUT that moved it in between would
      // leave the new email's events behind: start over (the transaction is run again).
      const del = await tx.query<ContactRow>('DELETE FROM contacts WHERE id = $1 AND email = $2 RETURNING *', [seen.id, seen.email]);
      if (!del.rows[0]) throw new TransactionRaceError('contact changed while being erased');
      return { contact: toContactRecord(del.rows[0]), events: erased.rowCount };
    });
  }

  /**
   * Links of Segment ids to this address go with the contact (identity_links_by_email): a
   * later call by a linked id is then held, not attached to a contact that was erased.
   */
  private async eraseLinks(tx: Queryable, workspaceId: string, email: string): Promise<void> {
    await tx.query('DELETE FROM identity_links WHERE workspace_id = $1 AND email = $2', [workspaceId, email], 'contacts_erase_links');
  }

  /** Erases the queued and failed events of an address that has no contact (yet). */
  private async eraseUnapplied(tx: Queryable, workspaceId: string, email: string): Promise<ContactErasure | null> {
    const args = [workspaceId, email];
    const which = 'workspace_id = $1 AND email = $2 AND contact_id IS NULL';
    // Lock first, in ascending id (the apply step's order). A worker that locked some of
    // them before us has committed when this returns: if it created the contact meanwhile,
    // the check below sees it and the erasure starts over, now erasing that contact too. A
    // worker that comes after us finds its events gone and skips them.
    await tx.query(`SELECT id FROM events WHERE ${which} ORDER BY id FOR UPDATE`, args);
    const erased = await tx.query(`DELETE FROM events WHERE ${which}`, args);
    await this.eraseLinks(tx, workspaceId, email);
    const created = await tx.query('SELECT 1 FROM contacts WHERE workspace_id = $1 AND email = $2', args);
    if (created.rowCount > 0) throw new TransactionRaceError('contact created while its address was being erased');
    return erased.rowCount > 0 ? { contact: null, events: erased.rowCount } : null;
  }

  /**
   * One index seek bounded by the limit (read-bounds.ts): contacts_by_status with a status,
   * else contacts_by_created; a search (a substring, which no index serves) is tested on at
   * most scanBudget contacts per page, and a page that ran out of budget ends where it stopped.
   */
  async list(q: ContactQuery): Promise<Page<ContactRecord, ContactCursor>> {
    if (hasNul(q.search, q.after?.id)) return { items: [], next: null };
    const desc = q.sort === 'createdAt.desc';
    const dir = desc ? 'DESC' : 'ASC';
    const want = q.limit + 1;
    const p = placeholders();
    const conds = [`workspace_id = ${p.arg(q.workspaceId)}`];
    if (q.status) conds.push(`status = ${p.arg(q.status)}`);
    // Keyset paging on (created_at, id), one range condition on the index.
    if (q.after) conds.push(`(created_at, id) ${desc ? '<' : '>'} (${p.arg(q.after.createdAt)}, ${p.arg(q.after.id)})`);
    const order = `ORDER BY created_at ${dir}, id ${dir}`;
    let branch: Branch<ContactRecord, ContactCursor>;
    if (!q.search) {
      const { rows } = await this.reads.query<ContactRow>(`SELECT * FROM contacts WHERE ${conds.join(' AND ')} ${order} LIMIT ${p.arg(want)}`, p.args);
      const found = rows.map(toContactRecord);
      branch = { rows: found, stop: found.length >= want ? pageKey(found[found.length - 1]!) : null };
    } else {
      const like = p.arg(`%${q.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      // Case-insensitive substring of email, firstName or lastName (kept lower-cased in
      // search_first and search_last, see the migration).
      const budget = this.bounds.scanBudget;
      const { rows } = await this.reads.query<{ id: string; created_at: number; hit: boolean }>(
        `SELECT id, created_at, (lower(email) LIKE ${like} OR search_first LIKE ${like} OR search_last LIKE ${like}) AS hit
         FROM contacts WHERE ${conds.join(' AND ')} ${order} LIMIT ${p.arg(budget)}`,
        p.args,
      );
      const ids: string[] = [];
      let examined = 0;
      for (const r of rows) {
        examined++;
        if (r.hit && ids.push(r.id) >= want) break;
      }
      const lastRow = examined > 0 ? rows[examined - 1]! : null;
      let found: ContactRecord[] = [];
      if (ids.length > 0) {
        const r = await this.reads.query<ContactRow>('SELECT * FROM contacts WHERE id = ANY($1::text[])', [ids]);
        const byId = new Map(r.rows.map((c) => [c.id, c]));
        found = ids.flatMap((id) => {
          const c = byId.get(id);
          return c ? [toContactRecord(c)] : []; // erased since the scan
        });
      }
      branch = scanBranch(found, examined, lastRow ? { createdAt: Number(lastRow.created_at), id: lastRow.id } : null, budget, want);
    }
    return mergePage([branch], pageKey, contactBefore(desc), q.limit);
  }

  async listPropertyNames(workspaceId: string): Promise<{ name: string; type: string }[]> {
    const { rows } = await this.reads.query<{ name: string; type: string }>(
      'SELECT name, type FROM contact_property_names WHERE workspace_id = $1 ORDER BY name LIMIT $2',
      [workspaceId, MAX_PROPERTY_NAMES],
    );
    return rows;
  }
}

const pageKey = (c: ContactRecord): ContactCursor => ({ createdAt: c.createdAt, id: c.id });
