import type Database from 'better-sqlite3';
import {
  ATTACH_HELD_KIND,
  type HeldEvent,
  type HeldEventInput,
  type HoldOutcome,
  type IdentityLink,
  type IdentityStore,
} from '../../ingest/segment/identity-store.port.js';
import { HELD_COLUMNS, resolveIds, toHeldEvent, walkAliases, type HeldRow, type LinkRow } from '../shared/identity-rows.js';
import { JOB_STATUS } from '../shared/job-rows.js';
import { sqliteFailure } from './errors.sqlite.js';

/** Attempts of an attach job before it is dead (its work is a few statements; failures are outages). */
const ATTACH_MAX_ATTEMPTS = 20;

/**
 * The identity tables on the embedded store. Writes run on the writer thread (by message,
 * sqlite-store.ts), in one synchronous transaction each (synchronous=FULL: on disk when it
 * resolves); reads run on the main thread's read connection.
 */
export class SqliteIdentityStore implements IdentityStore {
  private readonly linkOf: Database.Statement;
  private readonly upsertLink: Database.Statement;
  private readonly insertHeld: Database.Statement;
  private readonly hasHeld: Database.Statement;
  private readonly insertJob: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.linkOf = db.prepare('SELECT id, email, alias_of, linked_at FROM identity_links WHERE workspace_id = ? AND id = ?');
    this.upsertLink = db.prepare(`INSERT INTO identity_links (workspace_id, id, email, alias_of, linked_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (workspace_id, id) DO UPDATE SET email = excluded.email, alias_of = excluded.alias_of, linked_at = excluded.linked_at`);
    this.insertHeld = db.prepare(`INSERT INTO held_events (workspace_id, message_id, event, properties, traits, ts, received_at, user_id, anonymous_id, violations)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, message_id) DO NOTHING`);
    this.hasHeld = db
      .prepare(
        `SELECT EXISTS (SELECT 1 FROM held_events WHERE workspace_id = ? AND user_id = ?)
             OR EXISTS (SELECT 1 FROM held_events WHERE workspace_id = ? AND anonymous_id = ?)`,
      )
      .pluck();
    this.insertJob = db.prepare(`INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at)
      VALUES ('${ATTACH_HELD_KIND}', NULL, ?, ${JOB_STATUS.queued}, ?, ${ATTACH_MAX_ATTEMPTS}, ?)`);
  }

  private links(workspaceId: string, ids: string[]): LinkRow[] {
    // The list is bound as one JSON parameter (json_each): one statement whatever its length.
    return this.db
      .prepare('SELECT id, email, alias_of, linked_at FROM identity_links WHERE workspace_id = ? AND id IN (SELECT value FROM json_each(?))')
      .all(workspaceId, JSON.stringify(ids)) as LinkRow[];
  }

  private aliasSources(workspaceId: string, targets: string[]): string[] {
    return this.db
      .prepare('SELECT id FROM identity_links WHERE workspace_id = ? AND alias_of IN (SELECT value FROM json_each(?))')
      .pluck()
      .all(workspaceId, JSON.stringify(targets)) as string[];
  }

  async resolve(workspaceId: string, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    return resolveIds(ids, (c) => this.links(workspaceId, c));
  }

  async record(input: { workspaceId: string; links: IdentityLink[]; held: HeldEventInput[]; now: number }): Promise<{ held: HoldOutcome[]; attachJobs: number }> {
    const { workspaceId, now } = input;
    try {
      return this.db.transaction(() => {
        const candidates = new Set<string>();
        for (const l of input.links) {
          const old = this.linkOf.get(workspaceId, l.id) as LinkRow | undefined;
          if (old && Number(old.linked_at) > l.at) continue;
          if (old && old.email === l.email && old.alias_of === l.aliasOf) continue;
          this.upsertLink.run(workspaceId, l.id, l.email, l.aliasOf, l.at);
          candidates.add(l.id);
        }
        const held = input.held.map((h): HoldOutcome => {
          const info = this.insertHeld.run(workspaceId, h.messageId, h.event, h.properties, h.traits, h.timestamp, now, h.userId, h.anonymousId, h.violations ?? null);
          if (info.changes === 0) return 'duplicate';
          if (h.userId !== null) candidates.add(h.userId);
          if (h.anonymousId !== null) candidates.add(h.anonymousId);
          return 'held';
        });
        // Inside the transaction, so a link and a held event of concurrent requests always meet:
        // whichever commits second sees the other and enqueues the job.
        let attachJobs = 0;
        if (candidates.size > 0) {
          const resolved = resolveIds([...candidates], (c) => this.links(workspaceId, c));
          for (const id of candidates) {
            if (!resolved.has(id)) continue;
            const sources = [id, ...walkAliases(id, (t) => this.aliasSources(workspaceId, t))];
            if (!sources.some((s) => this.hasHeld.get(workspaceId, s, workspaceId, s) === 1)) continue;
            this.insertJob.run(JSON.stringify({ workspaceId, id }), now, now);
            attachJobs++;
          }
        }
        return { held, attachJobs };
      }).immediate();
    } catch (err) {
      throw sqliteFailure(err);
    }
  }

  async heldFor(workspaceId: string, ids: string[], limit: number): Promise<HeldEvent[]> {
    if (ids.length === 0) return [];
    const list = JSON.stringify(ids);
    const rows = this.db
      .prepare(
        `SELECT ${HELD_COLUMNS} FROM held_events WHERE workspace_id = ? AND user_id IN (SELECT value FROM json_each(?))
         UNION
         SELECT ${HELD_COLUMNS} FROM held_events WHERE workspace_id = ? AND anonymous_id IN (SELECT value FROM json_each(?))
         ORDER BY ts, seq LIMIT ?`,
      )
      .all(workspaceId, list, workspaceId, list, limit) as HeldRow[];
    return rows.map(toHeldEvent);
  }

  async aliasesOf(workspaceId: string, id: string): Promise<string[]> {
    return walkAliases(id, (t) => this.aliasSources(workspaceId, t));
  }

  async release(seqs: number[]): Promise<number> {
    if (seqs.length === 0) return 0;
    try {
      return this.db.prepare('DELETE FROM held_events WHERE seq IN (SELECT value FROM json_each(?))').run(JSON.stringify(seqs)).changes;
    } catch (err) {
      throw sqliteFailure(err);
    }
  }

  async countHeld(): Promise<number> {
    return this.db.prepare('SELECT count(*) FROM held_events').pluck().get() as number;
  }

  async purgeHeld(cutoff: number): Promise<number> {
    try {
      return this.db.prepare('DELETE FROM held_events WHERE received_at <= ?').run(cutoff).changes;
    } catch (err) {
      throw sqliteFailure(err);
    }
  }
}
