import type { JobInput } from '../../processing/job-queue.port.js';
import type { Workflow, WorkflowDefinition, WorkflowStatus } from '../../workflows/workflow-definition.js';
import type {
  Delivery,
  DeliveryAttempt,
  DeliveryStatus,
  DeliveryStore,
  Entry,
  Run,
  RunStatus,
  StepResult,
  TraceEntry,
  WorkflowStore,
} from '../../workflows/workflow-store.port.js';
import { DEFAULT_MAX_ATTEMPTS, JOB_STATUS } from '../shared/job-rows.js';
import {
  DELIVERY_COLUMNS,
  RUN_COLUMNS,
  WORKFLOW_COLUMNS,
  toDelivery,
  toRun,
  toTrace,
  toWorkflow,
  type DeliveryRow,
  type RunRow,
  type TraceRow,
  type WorkflowRow,
} from '../shared/workflow-rows.js';
import { hasNul, type PgDatabase, type Queryable } from './database.postgres.js';

/** A job inserted inside the caller's transaction: it commits (or not) with the run's change. */
async function insertJob(tx: Queryable, j: JobInput, now: number): Promise<void> {
  await tx.query(
    `INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at) VALUES ($1, $2, $3, ${JOB_STATUS.queued}, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [j.kind, j.key ?? null, JSON.stringify(j.payload ?? null), j.runAt, j.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, now],
  );
}

async function bump(tx: Queryable, workspaceId: string): Promise<void> {
  await tx.query(
    'INSERT INTO workflow_revisions (workspace_id, revision) VALUES ($1, 1) ON CONFLICT (workspace_id) DO UPDATE SET revision = workflow_revisions.revision + 1',
    [workspaceId],
  );
}

export class PostgresWorkflowStore implements WorkflowStore {
  constructor(private readonly db: PgDatabase) {}

  private async row(q: Queryable, workspaceId: string, id: string): Promise<WorkflowRow | undefined> {
    const { rows } = await q.query<WorkflowRow>(`SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL`, [id, workspaceId]);
    return rows[0];
  }

  async save(input: { id: string; workspaceId: string; definition: WorkflowDefinition; status: WorkflowStatus; now: number; create: boolean }): Promise<Workflow | null> {
    const { id, workspaceId, definition, status, now } = input;
    if (hasNul(id, workspaceId)) return null;
    const def = JSON.stringify(definition);
    return this.db.transaction(async (tx) => {
      let version = 1;
      if (input.create) {
        await tx.query('INSERT INTO workflows (id, workspace_id, version, status, definition, created_at, updated_at) VALUES ($1, $2, 1, $3, $4, $5, $5)', [id, workspaceId, status, def, now]);
      } else {
        const { rows } = await tx.query<{ version: number }>('SELECT version FROM workflows WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL FOR UPDATE', [id, workspaceId]);
        if (!rows[0]) return null;
        version = Number(rows[0].version) + 1;
        await tx.query('UPDATE workflows SET version = $2, status = $3, definition = $4, updated_at = $5 WHERE id = $1', [id, version, status, def, now]);
      }
      await tx.query('INSERT INTO workflow_versions (workflow_id, version, definition, created_at) VALUES ($1, $2, $3, $4)', [id, version, def, now]);
      await bump(tx, workspaceId);
      return toWorkflow((await this.row(tx, workspaceId, id))!);
    });
  }

  async setStatus(workspaceId: string, id: string, status: WorkflowStatus, now: number): Promise<Workflow | null> {
    if (hasNul(id, workspaceId)) return null;
    return this.db.transaction(async (tx) => {
      const r = await tx.query('UPDATE workflows SET status = $1, updated_at = $2 WHERE id = $3 AND workspace_id = $4 AND deleted_at IS NULL', [status, now, id, workspaceId]);
      if (r.rowCount === 0) return null;
      await bump(tx, workspaceId);
      return toWorkflow((await this.row(tx, workspaceId, id))!);
    });
  }

  async delete(workspaceId: string, id: string, now: number): Promise<boolean> {
    if (hasNul(id, workspaceId)) return false;
    return this.db.transaction(async (tx) => {
      const r = await tx.query('UPDATE workflows SET deleted_at = $1 WHERE id = $2 AND workspace_id = $3 AND deleted_at IS NULL', [now, id, workspaceId]);
      if (r.rowCount > 0) await bump(tx, workspaceId);
      return r.rowCount > 0;
    });
  }

  async get(workspaceId: string, id: string, version?: number): Promise<Workflow | null> {
    if (hasNul(id, workspaceId)) return null;
    if (version === undefined) {
      const r = await this.row(this.db, workspaceId, id);
      return r ? toWorkflow(r) : null;
    }
    const { rows } = await this.db.query<WorkflowRow>(
      `SELECT w.id, w.workspace_id, v.version, w.status, v.definition, w.created_at, v.created_at AS updated_at
       FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id WHERE w.id = $1 AND w.workspace_id = $2 AND v.version = $3`,
      [id, workspaceId, version],
    );
    return rows[0] ? toWorkflow(rows[0]) : null;
  }

  async list(q: { workspaceId: string; limit: number; after?: [number, string] }): Promise<Workflow[]> {
    const [t, id] = q.after ?? [-1, ''];
    if (hasNul(id)) return [];
    const { rows } = await this.db.query<WorkflowRow>(
      `SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE workspace_id = $1 AND deleted_at IS NULL AND (created_at, id) > ($2, $3)
       ORDER BY created_at, id LIMIT $4`,
      [q.workspaceId, t, id, q.limit],
    );
    return rows.map(toWorkflow);
  }

  async revisions(workspaceIds: string[]): Promise<Map<string, number>> {
    const { rows } = await this.db.query<{ workspace_id: string; revision: number }>(
      'SELECT workspace_id, revision FROM workflow_revisions WHERE workspace_id = ANY($1::text[])',
      [workspaceIds],
      'workflow_revisions',
    );
    return new Map(rows.map((r) => [r.workspace_id, Number(r.revision)]));
  }

  async forWorkspace(workspaceId: string): Promise<{ revision: number; workflows: Workflow[] }> {
    return this.db.transaction(async (tx) => {
      const rev = await tx.query<{ revision: number }>('SELECT revision FROM workflow_revisions WHERE workspace_id = $1', [workspaceId]);
      const { rows } = await tx.query<WorkflowRow>(`SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE workspace_id = $1 AND deleted_at IS NULL ORDER BY created_at, id`, [workspaceId]);
      return { revision: Number(rev.rows[0]?.revision ?? 0), workflows: rows.map(toWorkflow) };
    });
  }

  async enter(entries: Entry[], now: number): Promise<TraceEntry[]> {
    if (entries.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const out: TraceEntry[] = [];
      const trace = async (ws: string, messageId: string, t: TraceEntry): Promise<TraceEntry> => {
        await tx.query(
          'INSERT INTO workflow_traces (workspace_id, message_id, workflow_id, run_id, outcome, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
          [ws, messageId, t.workflowId, t.runId ?? null, t.outcome, t.reason ?? null, now],
        );
        const { rows } = await tx.query<TraceRow>('SELECT workflow_id, run_id, outcome, reason FROM workflow_traces WHERE workspace_id = $1 AND message_id = $2 AND workflow_id = $3', [
          ws,
          messageId,
          t.workflowId,
        ]);
        return rows[0] ? toTrace(rows[0]) : t;
      };
      for (const e of entries) {
        if (e.kind === 'skip') {
          out.push(await trace(e.workspaceId, e.messageId, { workflowId: e.workflowId, outcome: 'not_entered', reason: e.reason }));
          continue;
        }
        const r = await tx.query(
          `INSERT INTO workflow_runs (id, workspace_id, workflow_id, version, contact_id, trigger_key, trigger_message_id, once_key, status, steps, wake_at, trigger_event, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '{}', NULL, $10, $11, $11) ON CONFLICT DO NOTHING`,
          [e.runId, e.workspaceId, e.workflowId, e.version, e.contactId, e.triggerKey, e.triggerMessageId, e.once ? e.contactId : null, e.firstJob ? 'running' : 'completed', e.triggerEvent === null ? null : JSON.stringify(e.triggerEvent), now],
        );
        let t: TraceEntry;
        if (r.rowCount === 1) {
          if (e.firstJob) await insertJob(tx, e.firstJob, now);
          t = { workflowId: e.workflowId, runId: e.runId, outcome: 'started' };
        } else {
          const { rows } = await tx.query<{ id: string }>('SELECT id FROM workflow_runs WHERE workflow_id = $1 AND trigger_key = $2', [e.workflowId, e.triggerKey]);
          t = rows[0] ? { workflowId: e.workflowId, runId: rows[0].id, outcome: 'started' } : { workflowId: e.workflowId, outcome: 'not_entered', reason: 'already_entered' };
        }
        out.push(e.triggerMessageId !== null ? await trace(e.workspaceId, e.triggerMessageId, t) : t);
      }
      return out;
    });
  }

  async exitRuns(input: { workspaceId: string; workflowId: string; contactId: string; exceptTriggerKey: string; now: number }): Promise<number> {
    const r = await this.db.query(
      `UPDATE workflow_runs SET status = 'exited', wake_at = NULL, updated_at = $1
       WHERE workspace_id = $2 AND contact_id = $3 AND workflow_id = $4 AND status IN ('waiting', 'running') AND trigger_key <> $5`,
      [input.now, input.workspaceId, input.contactId, input.workflowId, input.exceptTriggerKey],
    );
    return r.rowCount;
  }

  async advance(runId: string, result: StepResult, now: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ status: RunStatus; steps: string }>('SELECT status, steps FROM workflow_runs WHERE id = $1 FOR UPDATE', [runId]);
      const row = rows[0];
      if (!row || row.status === 'completed' || row.status === 'exited') return false;
      const steps = JSON.parse(row.steps) as Run['steps'];
      steps[result.stepId] = result.state;
      await tx.query('UPDATE workflow_runs SET status = $2, steps = $3, wake_at = $4, updated_at = $5 WHERE id = $1', [runId, result.runStatus, JSON.stringify(steps), result.wakeAt, now]);
      if (result.next) await insertJob(tx, result.next, now);
      return true;
    });
  }

  async getRun(runId: string, workspaceId?: string): Promise<Run | null> {
    if (hasNul(runId)) return null;
    const { rows } = await this.db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE id = $1`, [runId]);
    const r = rows[0];
    if (!r || (workspaceId !== undefined && r.workspace_id !== workspaceId)) return null;
    return toRun(r);
  }

  async listRuns(q: { workspaceId: string; workflowId: string; contactId?: string; status?: RunStatus; limit: number; after?: [number, string] }): Promise<Run[]> {
    const [t, id] = q.after ?? [Number.MAX_SAFE_INTEGER, '\uffff'];
    if (hasNul(q.workflowId, q.contactId, id)) return [];
    const { rows } = await this.db.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE workflow_id = $1 AND workspace_id = $2
         AND ($3::text IS NULL OR contact_id = $3) AND ($4::text IS NULL OR status = $4)
         AND (created_at, id) < ($5, $6)
       ORDER BY created_at DESC, id DESC LIMIT $7`,
      [q.workflowId, q.workspaceId, q.contactId ?? null, q.status ?? null, t, id, q.limit],
    );
    return rows.map(toRun);
  }

  async traces(workspaceId: string, messageId: string): Promise<TraceEntry[]> {
    if (hasNul(messageId)) return [];
    const { rows } = await this.db.query<TraceRow>(
      'SELECT workflow_id, run_id, outcome, reason FROM workflow_traces WHERE workspace_id = $1 AND message_id = $2 ORDER BY created_at, workflow_id',
      [workspaceId, messageId],
    );
    return rows.map(toTrace);
  }

  async contactEvents(q: { workspaceId: string; contactId: string; event: string; since: number; limit: number }) {
    // events_by_contact narrows to the contact's events; bounded by `limit`.
    const { rows } = await this.db.query<{ properties: string | null; ts: number }>(
      'SELECT properties, ts FROM events WHERE contact_id = $1 AND status <> 0 AND workspace_id = $2 AND event = $3 AND ts >= $4 ORDER BY ts DESC LIMIT $5',
      [q.contactId, q.workspaceId, q.event, Number.isFinite(q.since) ? q.since : -8.64e15, q.limit],
    );
    return rows.map((r) => ({ properties: r.properties === null ? null : (JSON.parse(r.properties) as Record<string, unknown>), timestamp: Number(r.ts) }));
  }
}

export class PostgresDeliveryStore implements DeliveryStore {
  constructor(private readonly db: PgDatabase) {}

  async create(d: Omit<Delivery, 'status' | 'attempts' | 'nextAttemptAt' | 'createdAt' | 'updatedAt'>, firstJob: (id: string) => JobInput, now: number): Promise<Delivery> {
    return this.db.transaction(async (tx) => {
      const r = await tx.query(
        `INSERT INTO webhook_deliveries (id, workspace_id, workflow_id, run_id, step_id, url, headers, body, status, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', '[]', $9, $9, $9) ON CONFLICT DO NOTHING`,
        [d.id, d.workspaceId, d.workflowId, d.runId, d.stepId, d.url, JSON.stringify(d.headers), d.body, now],
      );
      if (r.rowCount === 1) await insertJob(tx, firstJob(d.id), now);
      const { rows } = await tx.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE run_id = $1 AND step_id = $2`, [d.runId, d.stepId]);
      return toDelivery(rows[0]!);
    });
  }

  async get(id: string, workspaceId?: string): Promise<Delivery | null> {
    if (hasNul(id)) return null;
    const { rows } = await this.db.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1`, [id]);
    const r = rows[0];
    if (!r || (workspaceId !== undefined && r.workspace_id !== workspaceId)) return null;
    return toDelivery(r);
  }

  async list(q: { workspaceId: string; status?: DeliveryStatus; workflowId?: string; limit: number; after?: [number, string] }): Promise<Delivery[]> {
    const [t, id] = q.after ?? [Number.MAX_SAFE_INTEGER, '\uffff'];
    if (hasNul(q.workflowId, id)) return [];
    const { rows } = await this.db.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE workspace_id = $1
         AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR workflow_id = $3)
         AND (created_at, id) < ($4, $5)
       ORDER BY created_at DESC, id DESC LIMIT $6`,
      [q.workspaceId, q.status ?? null, q.workflowId ?? null, t, id, q.limit],
    );
    return rows.map(toDelivery);
  }

  async recordAttempt(input: { id: string; attempt: DeliveryAttempt; status: DeliveryStatus; nextAttemptAt: number | null; next: JobInput | null; now: number }): Promise<void> {
    await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ attempts: string }>('SELECT attempts FROM webhook_deliveries WHERE id = $1 FOR UPDATE', [input.id]);
      if (!rows[0]) return;
      const attempts = JSON.parse(rows[0].attempts) as DeliveryAttempt[];
      attempts.push(input.attempt);
      await tx.query('UPDATE webhook_deliveries SET attempts = $2, status = $3, next_attempt_at = $4, updated_at = $5 WHERE id = $1', [
        input.id,
        JSON.stringify(attempts),
        input.status,
        input.nextAttemptAt,
        input.now,
      ]);
      if (input.next) await insertJob(tx, input.next, input.now);
    });
  }

  async retry(input: { id: string; workspaceId: string; job: JobInput; now: number }): Promise<boolean> {
    if (hasNul(input.id)) return false;
    return this.db.transaction(async (tx) => {
      const r = await tx.query("UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, updated_at = $1 WHERE id = $2 AND workspace_id = $3 AND status = 'failed'", [
        input.now,
        input.id,
        input.workspaceId,
      ]);
      if (r.rowCount === 0) return false;
      await insertJob(tx, input.job, input.now);
      return true;
    });
  }
}
