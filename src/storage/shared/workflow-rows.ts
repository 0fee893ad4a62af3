/** Rows of the workflow tables and their mapping, shared by both adapters. */
import type { Workflow, WorkflowDefinition, WorkflowStatus } from '../../workflows/workflow-definition.js';
import type { Delivery, DeliveryStatus, Run, RunStatus, TraceEntry, TraceReason } from '../../workflows/workflow-store.port.js';

export interface WorkflowRow {
  id: string;
  workspace_id: string;
  version: number;
  status: string;
  definition: string;
  created_at: number;
  updated_at: number;
}

export const WORKFLOW_COLUMNS = 'id, workspace_id, version, status, definition, created_at, updated_at';

export function toWorkflow(r: WorkflowRow): Workflow {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    version: Number(r.version),
    status: r.status as WorkflowStatus,
    definition: JSON.parse(r.definition) as WorkflowDefinition,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export interface RunRow {
  id: string;
  workspace_id: string;
  workflow_id: string;
  version: number;
  contact_id: string;
  trigger_message_id: string | null;
  status: string;
  steps: string;
  wake_at: number | null;
  trigger_event: string | null;
  created_at: number;
  updated_at: number;
}

export const RUN_COLUMNS = 'id, workspace_id, workflow_id, version, contact_id, trigger_message_id, status, steps, wake_at, trigger_event, created_at, updated_at';

export function toRun(r: RunRow): Run {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    workflowId: r.workflow_id,
    version: Number(r.version),
    contactId: r.contact_id,
    triggerMessageId: r.trigger_message_id,
    status: r.status as RunStatus,
    steps: JSON.parse(r.steps) as Run['steps'],
    wakeAt: r.wake_at === null ? null : Number(r.wake_at),
    triggerEvent: r.trigger_event === null ? null : (JSON.parse(r.trigger_event) as Record<string, unknown>),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export interface TraceRow {
  workflow_id: string;
  run_id: string | null;
  outcome: string;
  reason: string | null;
}

export function toTrace(r: TraceRow): TraceEntry {
  const t: TraceEntry = { workflowId: r.workflow_id, outcome: r.outcome as TraceEntry['outcome'] };
  if (r.run_id !== null) t.runId = r.run_id;
  if (r.reason !== null) t.reason = r.reason as TraceReason;
  return t;
}

export interface DeliveryRow {
  id: string;
  workspace_id: string;
  workflow_id: string;
  run_id: string;
  step_id: string;
  url: string;
  headers: string;
  body: string;
  status: string;
  attempts: string;
  next_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

export const DELIVERY_COLUMNS = 'id, workspace_id, workflow_id, run_id, step_id, url, headers, body, status, attempts, next_attempt_at, created_at, updated_at';

export function toDelivery(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    workflowId: r.workflow_id,
    runId: r.run_id,
    stepId: r.step_id,
    url: r.url,
    headers: JSON.parse(r.headers) as Record<string, string>,
    body: r.body,
    status: r.status as DeliveryStatus,
    attempts: JSON.parse(r.attempts) as Delivery['attempts'],
    nextAttemptAt: r.next_attempt_at === null ? null : Number(r.next_attempt_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** Run statuses after which nothing more happens to a run (a step result is then dropped). */
export const ENDED_RUN_STATUSES: readonly RunStatus[] = ['completed', 'exited'];
