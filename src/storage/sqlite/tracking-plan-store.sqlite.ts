/**
 * Tracking plans on the embedded store: put and delete run on the writer thread (by message),
 * the reads on the read connection. Versions grow in the same statement that writes the plan.
 */
import type Database from 'better-sqlite3';
import type { FlaggedEvent, StoredTrackingPlan, TrackingPlanStore } from '../../tracking-plan/tracking-plan-store.port.js';
import type { TrackingPlan } from '../../tracking-plan/tracking-plan.js';
import { toFlaggedEvent, toStoredPlan, type FlaggedRow, type TrackingPlanRow } from '../shared/tracking-plan-rows.js';
import { sqliteFailure } from './errors.sqlite.js';
import { Statements } from './statements.js';

/** The newest flagged events of a workspace: a backwards range of the partial index events_with_violations. */
export const FLAGGED_SQL = `SELECT message_id, event, received_at, violations FROM events INDEXED BY events_with_violations
  WHERE workspace_id = ? AND violations IS NOT NULL ORDER BY id DESC LIMIT ?`;

export class SqliteTrackingPlanStore implements TrackingPlanStore {
  private readonly s: Statements;

  constructor(db: Database.Database) {
    this.s = new Statements(db);
  }

  async get(workspaceId: string): Promise<StoredTrackingPlan | null> {
    const row = this.s.prepare('SELECT workspace_id, version, plan, updated_at FROM tracking_plans WHERE workspace_id = ?').get(workspaceId) as TrackingPlanRow | undefined;
    return row ? toStoredPlan(row) : null;
  }

  async version(workspaceId: string): Promise<number> {
    return (this.s.prepare('SELECT version FROM tracking_plans WHERE workspace_id = ?').pluck().get(workspaceId) as number | undefined) ?? 0;
  }

  async put(workspaceId: string, plan: TrackingPlan, now: number): Promise<StoredTrackingPlan> {
    try {
      const row = this.s
        .prepare(
          `INSERT INTO tracking_plans (workspace_id, version, plan, updated_at) VALUES (?, 1, ?, ?)
           ON CONFLICT (workspace_id) DO UPDATE SET version = version + 1, plan = excluded.plan, updated_at = excluded.updated_at
           RETURNING workspace_id, version, plan, updated_at`,
        )
        .get(workspaceId, JSON.stringify(plan), now) as TrackingPlanRow;
      return toStoredPlan(row)!;
    } catch (err) {
      throw sqliteFailure(err);
    }
  }

  async delete(workspaceId: string, now: number): Promise<boolean> {
    try {
      return this.s.prepare('UPDATE tracking_plans SET version = version + 1, plan = NULL, updated_at = ? WHERE workspace_id = ? AND plan IS NOT NULL').run(now, workspaceId).changes > 0;
    } catch (err) {
      throw sqliteFailure(err);
    }
  }

  async flaggedEvents(workspaceId: string, limit: number): Promise<FlaggedEvent[]> {
    return (this.s.prepare(FLAGGED_SQL).all(workspaceId, limit) as FlaggedRow[]).map(toFlaggedEvent);
  }
}
