import type Database from 'better-sqlite3';
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
import { sqliteFailure } from './errors.sqlite.js';
import { Statements } from './statements.js';
import { SyncMode } from './sync-mode.sqlite.js';

/** A job inserted inside the caller's transaction (the jobs table is in the same database). */
function insertJob(st: Statements, j: JobInput, now: number): void {
  st.prepare(`INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at) VALUES (?, ?, ?, ${JOB_STATUS.queued}, ?, ?, ?) ON CONFLICT DO NOTHING`).run(
    j.kind,
    j.key ?? null,
    JSON.stringify(j.payload ?? null),
    j.runAt,
    j.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    now,
  );
}

function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw sqliteFailure(err);
  }
}

/**
 * Workflows on the embedded store. Writes run on the writer thread (sqlite-store.ts sends
 * them there), reads on the main thread's read connection; each write method is one
 * IMMEDIATE transaction, jobs included.
 *
 * The engine's own writes (run starts, step results, exits, delivery attempts) commit
 * without their own fsync (SyncMode), as the job queue's claims and completions do: nothing
 * acknowledged depends on them, and the WAL keeps commit order, so one lost to a power cut
 * takes the completion of the job that wrote it with it, and that job runs again (its keys
 * make the repeat harmless). Fsynced, they were ~4 fsyncs per run on the writer thread, and
 * the benchmark's single-event ingest beside 10 workflows fell to ~0.1 of the rate without.
 * API writes (definitions, a retry asked for) keep FULL.
 */
export class SqliteWorkflowStore implements WorkflowStore {
  private readonly sync: SyncMode;
  private readonly st: Statements;
  constructor(private readonly db: Database.Database) {
    this.sync = new SyncMode(db);
    this.st = new Statements(db);
  }

  private bump(workspaceId: string): void {
    this.st.prepare('INSERT INTO workflow_revisions (workspace_id, revision) VALUES (?, 1) ON CONFLICT (workspace_id) DO UPDATE SET revision = revision + 1')
      .run(workspaceId);
  }

  private row(workspaceId: string, id: string): WorkflowRow | undefined {
    return this.st.prepare(`SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL`).get(id, workspaceId) as WorkflowRow | undefined;
  }

  async save(input: { id: string; workspaceId: string; definition: WorkflowDefinition; status: WorkflowStatus; now: number; create: boolean }): Promise<Workflow | null> {
    const { id, workspaceId, definition, status, now } = input;
    const def = JSON.stringify(definition);
    return wrap(() =>
      this.db.transaction((): Workflow | null => {
        let version = 1;
        if (input.create) {
          this.st.prepare('INSERT INTO workflows (id, workspace_id, version, status, definition, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?)').run(id, workspaceId, status, def, now, now);
        } else {
          const cur = this.row(workspaceId, id);
          if (!cur) return null;
          version = Number(cur.version) + 1;
          this.st.prepare('UPDATE workflows SET version = ?, status = ?, definition = ?, updated_at = ? WHERE id = ?').run(version, status, def, now, id);
        }
        this.st.prepare('INSERT INTO workflow_versions (workflow_id, version, definition, created_at) VALUES (?, ?, ?, ?)').run(id, version, def, now);
        this.bump(workspaceId);
        return toWorkflow(this.row(workspaceId, id)!);
      }).immediate(),
    );
  }

  async setStatus(workspaceId: string, id: string, status: WorkflowStatus, now: number): Promise<Workflow | null> {
    return wrap(() =>
      this.db.transaction(() => {
        const r = this.st.prepare('UPDATE workflows SET status = ?, updated_at = ? WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL').run(status, now, id, workspaceId);
        if (r.changes === 0) return null;
        this.bump(workspaceId);
        return toWorkflow(this.row(workspaceId, id)!);
      }).immediate(),
    );
  }

  async delete(workspaceId: string, id: string, now: number): Promise<boolean> {
    return wrap(() =>
      this.db.transaction(() => {
        const r = this.st.prepare('UPDATE workflows SET deleted_at = ? WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL').run(now, id, workspaceId);
        if (r.changes > 0) this.bump(workspaceId);
        return r.changes > 0;
      }).immediate(),
    );
  }

  async get(workspaceId: string, id: string, version?: number): Promise<Workflow | null> {
    if (version === undefined) {
      const r = this.row(workspaceId, id);
      return r ? toWorkflow(r) : null;
    }
    const r = this.st.prepare(
        `SELECT w.id, w.workspace_id, v.version, w.status, v.definition, w.created_at, v.created_at AS updated_at
         FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id WHERE w.id = ? AND w.workspace_id = ? AND v.version = ?`,
      )
      .get(id, workspaceId, version) as WorkflowRow | undefined;
    return r ? toWorkflow(r) : null;
  }

  async list(q: { workspaceId: string; limit: number; after?: [number, string] }): Promise<Workflow[]> {
    const [t, id] = q.after ?? [-1, ''];
    const rows = this.st.prepare(
        `SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE workspace_id = ? AND deleted_at IS NULL AND (created_at > ? OR (created_at = ? AND id > ?))
         ORDER BY created_at, id LIMIT ?`,
      )
      .all(q.workspaceId, t, t, id, q.limit) as WorkflowRow[];
    return rows.map(toWorkflow);
  }

  async revisions(workspaceIds: string[]): Promise<Map<string, number>> {
    const rows = this.st.prepare('SELECT workspace_id, revision FROM workflow_revisions WHERE workspace_id IN (SELECT value FROM json_each(?))').all(JSON.stringify(workspaceIds)) as {
      workspace_id: string;
      revision: number;
    }[];
    return new Map(rows.map((r) => [r.workspace_id, Number(r.revision)]));
  }

  async forWorkspace(workspaceId: string): Promise<{ revision: number; workflows: Workflow[] }> {
    return this.db.transaction(() => {
      const rev = this.st.prepare('SELECT revision FROM workflow_revisions WHERE workspace_id = ?').pluck().get(workspaceId) as number | undefined;
      const rows = this.st.prepare(`SELECT ${WORKFLOW_COLUMNS} FROM workflows WHERE workspace_id = ? AND deleted_at IS NULL ORDER BY created_at, id`).all(workspaceId) as WorkflowRow[];
      return { revision: rev ?? 0, workflows: rows.map(toWorkflow) };
    })();
  }

  async enter(entries: Entry[], now: number): Promise<TraceEntry[]> {
    const insertRun = this.st.prepare(`INSERT INTO workflow_runs (id, workspace_id, workflow_id, version, contact_id, trigger_key, trigger_message_id, once_key, status, steps, wake_at, trigger_event, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', '{}', NULL, ?, ?, ?) ON CONFLICT DO NOTHING`);
    const trace = this.st.prepare('INSERT INTO workflow_traces (workspace_id, message_id, workflow_id, run_id, outcome, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
    const byTrigger = this.st.prepare('SELECT id FROM workflow_runs WHERE workflow_id = ? AND trigger_key = ?').pluck();
    const readTrace = this.st.prepare('SELECT workflow_id, run_id, outcome, reason FROM workflow_traces WHERE workspace_id = ? AND message_id = ? AND workflow_id = ?');
    return wrap(() => this.sync.unsynced(() =>
      this.db.transaction(() =>
        entries.map((e): TraceEntry => {
          if (e.kind === 'skip') {
            trace.run(e.workspaceId, e.messageId, e.workflowId, null, 'not_entered', e.reason, now);
            return toTrace(readTrace.get(e.workspaceId, e.messageId, e.workflowId) as TraceRow);
          }
          const r = insertRun.run(e.runId, e.workspaceId, e.workflowId, e.version, e.contactId, e.triggerKey, e.triggerMessageId, e.once ? e.contactId : null, e.triggerEvent === null ? null : JSON.stringify(e.triggerEvent), now, now);
          let t: TraceEntry;
          if (r.changes === 1) {
            if (e.firstJob) insertJob(this.st, e.firstJob, now);
            else this.st.prepare("UPDATE workflow_runs SET status = 'completed' WHERE id = ?").run(e.runId);
            t = { workflowId: e.workflowId, runId: e.runId, outcome: 'started' };
          } else {
            const existing = byTrigger.get(e.workflowId, e.triggerKey) as string | undefined;
            t = existing ? { workflowId: e.workflowId, runId: existing, outcome: 'started' } : { workflowId: e.workflowId, outcome: 'not_entered', reason: 'already_entered' };
          }
          if (e.triggerMessageId !== null) {
            trace.run(e.workspaceId, e.triggerMessageId, e.workflowId, t.runId ?? null, t.outcome, t.reason ?? null, now);
            return toTrace(readTrace.get(e.workspaceId, e.triggerMessageId, e.workflowId) as TraceRow);
          }
          return t;
        }),
      ).immediate(),
    ));
  }

  async exitRuns(input: { workspaceId: string; workflowId: string; contactId: string; exceptTriggerKey: string; now: number }): Promise<number> {
    return wrap(
      () => this.sync.unsynced(() =>
        this.st.prepare(
            `UPDATE workflow_runs SET status = 'exited', wake_at = NULL, updated_at = ?
             WHERE workspace_id = ? AND contact_id = ? AND workflow_id = ? AND status IN ('waiting', 'running') AND trigger_key <> ?`,
          )
          .run(input.now, input.workspaceId, input.contactId, input.workflowId, input.exceptTriggerKey).changes),
    );
  }

  async advance(runId: string, result: StepResult, now: number): Promise<boolean> {
    return wrap(() => this.sync.unsynced(() =>
      this.db.transaction(() => {
        const row = this.st.prepare('SELECT status, steps FROM workflow_runs WHERE id = ?').get(runId) as { status: RunStatus; steps: string } | undefined;
        if (!row || row.status === 'completed' || row.status === 'exited') return false;
        const steps = JSON.parse(row.steps) as Run['steps'];
        steps[result.stepId] = result.state;
        this.st.prepare('UPDATE workflow_runs SET status = ?, steps = ?, wake_at = ?, updated_at = ? WHERE id = ?').run(result.runStatus, JSON.stringify(steps), result.wakeAt, now, runId);
        if (result.next) insertJob(this.st, result.next, now);
        return true;
      }).immediate(),
    ));
  }

  async getRun(runId: string, workspaceId?: string): Promise<Run | null> {
    const r = this.st.prepare(`SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE id = ?`).get(runId) as RunRow | undefined;
    if (!r || (workspaceId !== undefined && r.workspace_id !== workspaceId)) return null;
    return toRun(r);
  }

  async listRuns(q: { workspaceId: string; workflowId: string; contactId?: string; status?: RunStatus; limit: number; after?: [number, string] }): Promise<Run[]> {
    const [t, id] = q.after ?? [Number.MAX_SAFE_INTEGER, '\uffff'];
    const rows = this.st.prepare(
        `SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE workflow_id = ? AND workspace_id = ?
           AND (? IS NULL OR contact_id = ?) AND (? IS NULL OR status = ?)
           AND (created_at < ? OR (created_at = ? AND id < ?))
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
      .all(q.workflowId, q.workspaceId, q.contactId ?? null, q.contactId ?? null, q.status ?? null, q.status ?? null, t, t, id, q.limit) as RunRow[];
    return rows.map(toRun);
  }

  async traces(workspaceId: string, messageId: string): Promise<TraceEntry[]> {
    const rows = this.st.prepare('SELECT workflow_id, run_id, outcome, reason FROM workflow_traces WHERE workspace_id = ? AND message_id = ? ORDER BY created_at, workflow_id')
      .all(workspaceId, messageId) as TraceRow[];
    return rows.map(toTrace);
  }

  async contactEvents(q: { workspaceId: string; contactId: string; event: string; since: number; limit: number }) {
    // events_by_contact narrows to the contact's events; bounded by `limit`.
    const rows = this.st.prepare('SELECT properties, ts FROM events WHERE contact_id = ? AND status <> 0 AND workspace_id = ? AND event = ? AND ts >= ? ORDER BY ts DESC LIMIT ?')
      .all(q.contactId, q.workspaceId, q.event, Number.isFinite(q.since) ? q.since : -8.64e15, q.limit) as { properties: string | null; ts: number }[];
    return rows.map((r) => ({ properties: r.properties === null ? null : (JSON.parse(r.properties) as Record<string, unknown>), timestamp: Number(r.ts) }));
  }
}

export class SqliteDeliveryStore implements DeliveryStore {
  private readonly sync: SyncMode;
  private readonly st: Statements;
  constructor(private readonly db: Database.Database) {
    this.sync = new SyncMode(db);
    this.st = new Statements(db);
  }

  private find(id: string): DeliveryRow | undefined {
    return this.st.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?`).get(id) as DeliveryRow | undefined;
  }

  async create(d: Omit<Delivery, 'status' | 'attempts' | 'nextAttemptAt' | 'createdAt' | 'updatedAt'>, firstJob: (id: string) => JobInput, now: number): Promise<Delivery> {
    return wrap(() => this.sync.unsynced(() =>
      this.db.transaction(() => {
        const r = this.st.prepare(
            `INSERT INTO webhook_deliveries (id, workspace_id, workflow_id, run_id, step_id, url, headers, body, status, attempts, next_attempt_at, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', '[]', ?, ?, ?) ON CONFLICT DO NOTHING`,
          )
          .run(d.id, d.workspaceId, d.workflowId, d.runId, d.stepId, d.url, JSON.stringify(d.headers), d.body, now, now, now);
        if (r.changes === 1) insertJob(this.st, firstJob(d.id), now);
        const row = this.st.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE run_id = ? AND step_id = ?`).get(d.runId, d.stepId) as DeliveryRow;
        return toDelivery(row);
      }).immediate(),
    ));
  }

  /** create() with its job already built (what crosses to the writer thread). */
  async createWithJob(d: Omit<Delivery, 'status' | 'attempts' | 'nextAttemptAt' | 'createdAt' | 'updatedAt'>, job: JobInput, now: number): Promise<Delivery> {
    return this.create(d, () => job, now);
  }

  async get(id: string, workspaceId?: string): Promise<Delivery | null> {
    const r = this.find(id);
    if (!r || (workspaceId !== undefined && r.workspace_id !== workspaceId)) return null;
    return toDelivery(r);
  }

  async list(q: { workspaceId: string; status?: DeliveryStatus; workflowId?: string; limit: number; after?: [number, string] }): Promise<Delivery[]> {
    const [t, id] = q.after ?? [Number.MAX_SAFE_INTEGER, '\uffff'];
    const rows = this.st.prepare(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE workspace_id = ?
           AND (? IS NULL OR status = ?) AND (? IS NULL OR workflow_id = ?)
           AND (created_at < ? OR (created_at = ? AND id < ?))
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
      .all(q.workspaceId, q.status ?? null, q.status ?? null, q.workflowId ?? null, q.workflowId ?? null, t, t, id, q.limit) as DeliveryRow[];
    return rows.map(toDelivery);
  }

  async recordAttempt(input: { id: string; attempt: DeliveryAttempt; status: DeliveryStatus; nextAttemptAt: number | null; next: JobInput | null; now: number }): Promise<void> {
    wrap(() => this.sync.unsynced(() =>
      this.db.transaction(() => {
        const row = this.find(input.id);
        if (!row) return;
        const attempts = JSON.parse(row.attempts) as DeliveryAttempt[];
        attempts.push(input.attempt);
        this.st.prepare('UPDATE webhook_deliveries SET attempts = ?, status = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?')
          .run(JSON.stringify(attempts), input.status, input.nextAttemptAt, input.now, input.id);
        if (input.next) insertJob(this.st, input.next, input.now);
      }).immediate(),
    ));
  }

  async retry(input: { id: string; workspaceId: string; job: JobInput; now: number }): Promise<boolean> {
    return wrap(() =>
      this.db.transaction(() => {
        const r = this.st.prepare("UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ? WHERE id = ? AND workspace_id = ? AND status = 'failed'")
          .run(input.now, input.now, input.id, input.workspaceId);
        if (r.changes === 0) return false;
        insertJob(this.st, input.job, input.now);
        return true;
      }).immediate(),
    );
  }
}
