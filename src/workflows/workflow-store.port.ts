/**
 * The workflow store ports: definitions and runs (WorkflowStore), webhook deliveries
 * (DeliveryStore). Exactly-once comes from the tables' unique keys, not from callers:
 * a run is unique per (workflow, trigger key) and, for `frequency: once`, per (workflow,
 * contact); a run's next step job is inserted in the same transaction as the step's result,
 * keyed by (run, step position), so no step is scheduled twice and no timer fires twice.
 * Network calls never run inside these methods (they are made before or after, by the runner).
 */
import type { JobInput } from '../processing/job-queue.port.js';
import type { Workflow, WorkflowDefinition, WorkflowStatus } from './workflow-definition.js';

export type RunStatus = 'waiting' | 'running' | 'completed' | 'exited' | 'failed';
export type StepStatus = 'pending' | 'running' | 'waiting' | 'completed' | 'skipped' | 'failed';

export interface StepState {
  status: StepStatus;
  attempts: number;
  startedAt: number | null;
  finishedAt: number | null;
  error?: string;
  /** A branch step: the list it took (a repeated job follows the same one). */
  branch?: 'then' | 'else';
}

export interface Run {
  id: string;
  workspaceId: string;
  workflowId: string;
  version: number;
  contactId: string;
  triggerMessageId: string | null;
  status: RunStatus;
  /** By step id; steps not reached yet are absent. */
  steps: Record<string, StepState>;
  wakeAt: number | null;
  /** The triggering event in the read API's shape (null for a segment trigger). */
  triggerEvent: Record<string, unknown> | null;
  createdAt: number;
  updatedAt: number;
}

export type TraceReason = 'backdated' | 'already_entered' | 'filtered' | 'paused';

export interface TraceEntry {
  workflowId: string;
  runId?: string;
  outcome: 'started' | 'not_entered';
  reason?: TraceReason;
}

/** A run to start (if its unique keys allow) or a trace to record for the event. */
export type Entry =
  | {
      kind: 'start';
      runId: string;
      workspaceId: string;
      workflowId: string;
      version: number;
      contactId: string;
      /** messageId or segment transition id: one run per (workflow, triggerKey). */
      triggerKey: string;
      triggerMessageId: string | null;
      once: boolean;
      triggerEvent: Record<string, unknown> | null;
      /** The first step's job, inserted with the run (built by the runner from the run id). */
      firstJob: JobInput | null;
    }
  | { kind: 'skip'; workspaceId: string; workflowId: string; messageId: string; reason: TraceReason };

export interface StepResult {
  stepId: string;
  state: StepState;
  /** The run's new status and wake time. */
  runStatus: RunStatus;
  wakeAt: number | null;
  /** The next job of the run (next step, or this wait's timer), inserted in the same transaction. */
  next: JobInput | null;
}

export interface WorkflowStore {
  /** Creates (version 1) or, with an existing id, writes a new version. Null: no such workflow in the workspace. */
  save(input: { id: string; workspaceId: string; definition: WorkflowDefinition; status: WorkflowStatus; now: number; create: boolean }): Promise<Workflow | null>;
  setStatus(workspaceId: string, id: string, status: WorkflowStatus, now: number): Promise<Workflow | null>;
  delete(workspaceId: string, id: string, now: number): Promise<boolean>;
  /** The current version, or `version` when given (a deleted workflow's versions stay readable for its runs). */
  get(workspaceId: string, id: string, version?: number): Promise<Workflow | null>;
  /** Oldest first, keyset after (createdAt, id). */
  list(q: { workspaceId: string; limit: number; after?: [number, string] }): Promise<Workflow[]>;
  /** The workspaces' change counters (absent: 0), read per trigger-stage job to keep its cache honest. */
  revisions(workspaceIds: string[]): Promise<Map<string, number>>;
  /** Every workflow of a workspace that is not deleted (active and paused), with its revision. */
  forWorkspace(workspaceId: string): Promise<{ revision: number; workflows: Workflow[] }>;

  /** Records entries in one transaction; returns the trace of each ('started' only when this call created the run). */
  enter(entries: Entry[], now: number): Promise<TraceEntry[]>;
  /** Ends the contact's waiting or running runs of a workflow (exitWhen), except the run this event started. */
  exitRuns(input: { workspaceId: string; workflowId: string; contactId: string; exceptTriggerKey: string; now: number }): Promise<number>;
  /** Applies a step's outcome and inserts the run's next job, unless the run has ended (exited, completed). False then. */
  advance(runId: string, result: StepResult, now: number): Promise<boolean>;
  getRun(runId: string, workspaceId?: string): Promise<Run | null>;
  listRuns(q: { workspaceId: string; workflowId: string; contactId?: string; status?: RunStatus; limit: number; after?: [number, string] }): Promise<Run[]>;
  /** The event trace of GET /v1/events/:messageId. */
  traces(workspaceId: string, messageId: string): Promise<TraceEntry[]>;
  /**
   * The contact's accepted events of one name with timestamp ≥ since, newest first, at most
   * `limit` (for `performed` in branch conditions; the caller filters by `where`).
   */
  contactEvents(q: { workspaceId: string; contactId: string; event: string; since: number; limit: number }): Promise<{ properties: Record<string, unknown> | null; timestamp: number }[]>;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface DeliveryAttempt {
  at: number;
  status: number | null;
  latencyMs: number;
  response: string;
  error?: string;
  /**
   * Test mode only: the signed request of this attempt exactly as it was (or would have been)
   * sent, and whether it was: only to a step marked `"test": true` (SPEC.md, test keys).
   */
  request?: { url: string; headers: Record<string, string>; body: string };
  sent?: boolean;
}

export interface Delivery {
  id: string;
  workspaceId: string;
  workflowId: string;
  runId: string;
  stepId: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  status: DeliveryStatus;
  attempts: DeliveryAttempt[];
  nextAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface DeliveryStore {
  /** The delivery of (run, step), created with its first attempt's job on first call; later calls return the existing one. */
  create(d: Omit<Delivery, 'status' | 'attempts' | 'nextAttemptAt' | 'createdAt' | 'updatedAt'>, firstJob: (id: string) => JobInput, now: number): Promise<Delivery>;
  get(id: string, workspaceId?: string): Promise<Delivery | null>;
  /** Newest first, keyset before (createdAt, id). */
  list(q: { workspaceId: string; status?: DeliveryStatus; workflowId?: string; limit: number; after?: [number, string] }): Promise<Delivery[]>;
  /** Appends an attempt and sets the status; `next`: the retry's job, inserted in the same transaction. */
  recordAttempt(input: { id: string; attempt: DeliveryAttempt; status: DeliveryStatus; nextAttemptAt: number | null; next: JobInput | null; now: number }): Promise<void>;
  /** A failed delivery back to pending with a job due now; false when it is not failed. */
  retry(input: { id: string; workspaceId: string; job: JobInput; now: number }): Promise<boolean>;
}
