/** Tracking plans on PostgreSQL: one statement per call; the version grows in the statement that writes the plan. */
import type { FlaggedEvent, StoredTrackingPlan, TrackingPlanStore } from '../../tracking-plan/tracking-plan-store.port.js';
import type { TrackingPlan } from '../../tracking-plan/tracking-plan.js';
import { toFlaggedEvent, toStoredPlan, type FlaggedRow, type TrackingPlanRow } from '../shared/tracking-plan-rows.js';
import { hasNul, type PgDatabase } from './database.postgres.js';

/** The newest flagged events of a workspace: a backwards range of the partial index events_with_violations. */
export const FLAGGED_SQL = `SELECT message_id, event, received_at, violations FROM events
  WHERE workspace_id = $1 AND violations IS NOT NULL ORDER BY id DESC LIMIT $2`;

export class PostgresTrackingPlanStore implements TrackingPlanStore {
  constructor(private readonly db: PgDatabase) {}

  async get(workspaceId: string): Promise<StoredTrackingPlan | null> {
    if (hasNul(workspaceId)) return null;
    const { rows } = await this.db.query<TrackingPlanRow>('SELECT workspace_id, version, plan, updated_at FROM tracking_plans WHERE workspace_id = $1', [workspaceId], 'tracking_plan_get');
    return rows[0] ? toStoredPlan(rows[0]) : null;
  }

  async version(workspaceId: string): Promise<number> {
    if (hasNul(workspaceId)) return 0;
    const { rows } = await this.db.query<{ version: string }>('SELECT version FROM tracking_plans WHERE workspace_id = $1', [workspaceId], 'tracking_plan_version');
    return rows[0] ? Number(rows[0].version) : 0;
  }

  async put(workspaceId: string, plan: TrackingPlan, now: number): Promise<StoredTrackingPlan> {
    const { rows } = await this.db.query<TrackingPlanRow>(
      `INSERT INTO tracking_plans (workspace_id, version, plan, updated_at) VALUES ($1, 1, $2, $3)
       ON CONFLICT (workspace_id) DO UPDATE SET version = tracking_plans.version + 1, plan = excluded.plan, updated_at = excluded.updated_at
       RETURNING workspace_id, version, plan, updated_at`,
      [workspaceId, JSON.stringify(plan), now],
    );
    return toStoredPlan(rows[0]!)!;
  }

  async delete(workspaceId: string, now: number): Promise<boolean> {
    const r = await this.db.query('UPDATE tracking_plans SET version = version + 1, plan = NULL, updated_at = $1 WHERE workspace_id = $2 AND plan IS NOT NULL', [now, workspaceId]);
    return r.rowCount > 0;
  }

  async flaggedEvents(workspaceId: string, limit: number): Promise<FlaggedEvent[]> {
    if (hasNul(workspaceId)) return [];
    const { rows } = await this.db.query<FlaggedRow>(FLAGGED_SQL, [workspaceId, limit], 'tracking_plan_flagged');
    return rows.map(toFlaggedEvent);
  }
}
