/**
 * The hot path, independent of HTTP: validate → derive the messageId → dedup and durable
 * append (the EventLog port) → outcome. Route plugins only translate wire to these calls and
 * outcomes back to wire. Depends on core/ and the EventLog port only.
 */
import { itemByteLength } from '../core/item-size.js';
import { LIMITS } from '../core/limits.js';
import { deriveMessageId } from '../core/message-id.js';
import type { ItemCode, ItemError, JsonObject, ValidEvent } from '../core/types.js';
import { SINGLE_INVALID_EMAIL_MESSAGE, validateEvent } from '../core/validate-event.js';
import { isPlainObject } from '../core/validate-properties.js';
import type { AppendItem, AppendOutcome, EventLog } from './event-log.port.js';

/**
 * A workspace's tracking plan as the hot path sees it (implemented by tracking-plan/): a
 * precompiled check, current within a second (tracking-plan-cache.ts). `current` answers
 * synchronously while its copy is fresh, so most calls cost a Map lookup.
 */
export interface PlanChecks {
  current(workspaceId: string): PlanCheck | null | Promise<PlanCheck | null>;
}

export interface PlanCheck {
  readonly mode: 'warn' | 'block';
  /** The event's first problem, or null when it follows the plan. */
  check(event: string, properties: JsonObject | null): { rule: string; path: string; message: string } | null;
}

/** What the plan says of one valid event: pass, accept flagged (`violations` JSON), or refuse. */
export type PlanVerdict = { kind: 'pass' } | { kind: 'flag'; violations: string } | { kind: 'block'; error: ItemError };

const PASS: PlanVerdict = Object.freeze({ kind: 'pass' });

/** The plan's verdict on one valid event, counting nothing (the dry run's; IngestService.verdict counts). */
export function planVerdict(plan: PlanCheck, v: ValidEvent): PlanVerdict {
  const problem = plan.check(v.event, v.properties);
  if (problem === null) return PASS;
  if (plan.mode === 'block') return { kind: 'block', error: { code: 'TRACKING_PLAN_VIOLATION', message: problem.message } };
  return { kind: 'flag', violations: JSON.stringify([problem]) };
}

/** `segment`: the Segment-compatible paths (ingest/segment/), which validate before calling appendValidated. */
export type IngestEndpoint = 'single' | 'batch' | 'segment';

/** Counts of what ingest did, per endpoint (implemented by the HTTP layer's metrics). */
export interface IngestCounters {
  accepted(endpoint: IngestEndpoint, n: number): void;
  duplicate(endpoint: IngestEndpoint, n: number, workspaceId: string): void;
  rejected(endpoint: IngestEndpoint, n: number): void;
  /** Events a tracking plan found a problem with: flagged (warn) or refused (block). */
  planViolations?(endpoint: IngestEndpoint, mode: 'warn' | 'block', n: number): void;
}

/**
 * Sees what each call did (activity-recorder.ts: the live view and the stats counters). It
 * runs inline on the request path, so it may only buffer: no I/O, no await.
 */
export interface IngestObserver {
  ingested(o: {
    workspaceId: string;
    endpoint: IngestEndpoint;
    now: number;
    items: readonly AppendItem[];
    outcomes: readonly AppendOutcome[];
    rejected: readonly { raw: unknown; errors: readonly ItemError[] }[];
  }): void;
}

const NONE: readonly never[] = [];

export type SingleOutcome =
  | { kind: 'not_object' }
  | { kind: 'invalid'; code: ItemCode; message: string }
  | {
      kind: 'stored';
      messageId: string;
      duplicate: boolean;
      /** The client sent the messageId (else it was derived from the content). */
      messageIdGiven: boolean;
      /** Duplicates: when the messageId was first accepted (Unix ms), when the ledger could say. */
      firstAcceptedAt?: number | null;
    };

export type BatchOutcome =
  | { kind: 'not_object' }
  | { kind: 'invalid_batch'; message: string }
  | { kind: 'too_many' }
  | { kind: 'done'; result: BatchResult };

export interface BatchResult {
  accepted: number;
  failed: number;
  duplicated: number;
  events: { index: number; messageId: string; status: AppendOutcome }[];
  errors: { index: number; errors: ItemError[] }[];
}

export function toAppendItem(workspaceId: string, v: ValidEvent, endpoint?: IngestEndpoint): AppendItem {
  const item: AppendItem = {
    workspaceId,
    messageId: v.messageId ?? deriveMessageId(workspaceId, v),
    event: v.event,
    email: v.email,
    properties: v.properties === null ? null : JSON.stringify(v.properties),
    traits: v.traits === null ? null : JSON.stringify(v.traits),
    timestamp: v.timestamp,
  };
  if (endpoint === 'segment') item.source = 'segment';
  return item;
}

export class IngestService {
  constructor(
    private readonly log: Pick<EventLog, 'append'>,
    private readonly dedupWindowMs: number,
    private readonly counters: IngestCounters,
    /** Explains duplicates (the first acceptance time); read for duplicates only. */
    private readonly ledger?: Pick<EventLog, 'firstAcceptedAt'>,
    private readonly observer?: IngestObserver,
    private readonly plans?: PlanChecks,
  ) {}

  /** The workspace's plan check for one request (null: no plan). */
  plan(workspaceId: string): PlanCheck | null | Promise<PlanCheck | null> {
    return this.plans ? this.plans.current(workspaceId) : null;
  }

  /** Runs the plan on one valid event, counting what it finds. */
  verdict(plan: PlanCheck, v: ValidEvent, endpoint: IngestEndpoint): PlanVerdict {
    const verdict = planVerdict(plan, v);
    if (verdict !== PASS) this.counters.planViolations?.(endpoint, plan.mode, 1);
    return verdict;
  }

  /** POST /v1/events: one event. */
  async single(workspaceId: string, body: unknown, now: number): Promise<SingleOutcome> {
    // Awaited only when the copy had to be read (once a second per workspace at most).
    const planned = this.plan(workspaceId);
    const plan = planned instanceof Promise ? await planned : planned;
    const p = prepareSingle(workspaceId, body, now, plan === null ? null : (v) => this.verdict(plan, v, 'single'));
    if (p.kind !== 'valid') {
      this.counters.rejected('single', 1);
      // The error the client was answered with.
      const error = p.kind === 'not_object' ? { code: 'INVALID_EVENT' as const, message: 'Request body must be a JSON object' } : { code: p.code, message: p.message };
      this.observer?.ingested({ workspaceId, endpoint: 'single', now, items: NONE, outcomes: NONE, rejected: [{ raw: body, errors: [error] }] });
      return p;
    }
    const { item, messageIdGiven } = p;
    const outcomes = await this.log.append([item], now, this.dedupWindowMs);
    const outcome = outcomes[0];
    this.observer?.ingested({ workspaceId, endpoint: 'single', now, items: [item], outcomes, rejected: NONE });
    if (outcome !== 'duplicate') {
      this.counters.accepted('single', 1);
      return { kind: 'stored', messageId: item.messageId, duplicate: false, messageIdGiven };
    }
    this.counters.duplicate('single', 1, workspaceId);
    // The event is safely deduplicated whatever this read does: a failure only loses the time.
    const firstAcceptedAt = this.ledger ? await this.ledger.firstAcceptedAt(workspaceId, item.messageId).catch(() => null) : null;
    return { kind: 'stored', messageId: item.messageId, duplicate: true, messageIdGiven, firstAcceptedAt };
  }

  /**
   * Events another API's routes mapped to ours and validated with the same validateEvent
   * (ingest/segment/): the same dedup and durable append, one messageId space with our own
   * endpoints. Sizes are the caller's to bound (Segment measures the call it was sent).
   */
  async appendValidated(
    workspaceId: string,
    events: readonly ValidEvent[],
    now: number,
    endpoint: IngestEndpoint,
    /** Per event, what the plan flagged (verdict()), or null. */
    violations?: readonly (string | null)[],
  ): Promise<AppendOutcome[]> {
    if (events.length === 0) return [];
    const items = events.map((v, i) => {
      const item = toAppendItem(workspaceId, v, endpoint);
      const flagged = violations?.[i];
      if (flagged) item.violations = flagged;
      return item;
    });
    const outcomes = await this.log.append(items, now, this.dedupWindowMs);
    this.observer?.ingested({ workspaceId, endpoint, now, items, outcomes, rejected: NONE });
    let duplicated = 0;
    for (const o of outcomes) if (o === 'duplicate') duplicated++;
    this.counters.accepted(endpoint, outcomes.length - duplicated);
    if (duplicated > 0) this.counters.duplicate(endpoint, duplicated, workspaceId);
    return outcomes;
  }

  /** Reports calls another front end refused (the Segment-compatible paths) to the observer: the live view shows them. */
  observeRejected(workspaceId: string, endpoint: IngestEndpoint, now: number, rejected: readonly { raw: unknown; errors: readonly ItemError[] }[]): void {
    if (rejected.length > 0) this.observer?.ingested({ workspaceId, endpoint, now, items: NONE, outcomes: NONE, rejected });
  }

  /** POST /v1/events/batch: each event validated alone; the valid ones appended together. */
  async batch(workspaceId: string, body: unknown, now: number): Promise<BatchOutcome> {
    // Awaited only when the copy had to be read (once a second per workspace at most).
    const planned = this.plan(workspaceId);
    const plan = planned instanceof Promise ? await planned : planned;
    const p = prepareBatch(workspaceId, body, now, plan === null ? null : (v) => this.verdict(plan, v, 'batch'));
    if (p.kind !== 'prepared') return p;
    const { list, errors, items, indexes } = p;
    const outcomes = items.length ? await this.log.append(items, now, this.dedupWindowMs) : [];
    this.observer?.ingested({ workspaceId, endpoint: 'batch', now, items, outcomes, rejected: errors.map((e) => ({ raw: list[e.index], errors: e.errors })) });
    const events: BatchResult['events'] = [];
    let accepted = 0;
    let duplicated = 0;
    outcomes.forEach((o, k) => {
      if (o === 'accepted') accepted++;
      else duplicated++;
      events.push({ index: indexes[k]!, messageId: items[k]!.messageId, status: o });
    });
    this.counters.accepted('batch', accepted);
    if (duplicated > 0) this.counters.duplicate('batch', duplicated, workspaceId);
    this.counters.rejected('batch', errors.length);
    return { kind: 'done', result: { accepted, failed: errors.length, duplicated, events, errors } };
  }
}

/** A single call validated: what it would store, or the error it is answered with. */
export type PreparedSingle =
  | { kind: 'not_object' }
  | { kind: 'invalid'; code: ItemCode; message: string }
  | { kind: 'valid'; item: AppendItem; event: ValidEvent; messageIdGiven: boolean };

/**
 * The single endpoint's validation, the same for the real call and its dry run (dry-run/):
 * one function, so a dry run answers every invalid input exactly as the real call does.
 */
export function prepareSingle(workspaceId: string, body: unknown, now: number, verdict: ((v: ValidEvent) => PlanVerdict) | null = null): PreparedSingle {
  if (!isPlainObject(body)) return { kind: 'not_object' };
  const r = validateEvent(body, now);
  if (!r.ok) {
    const first = r.error[0]!;
    const message = first.code === 'INVALID_EMAIL' ? SINGLE_INVALID_EMAIL_MESSAGE : first.message;
    return { kind: 'invalid', code: first.code, message };
  }
  const item = toAppendItem(workspaceId, r.value);
  if (verdict !== null) {
    const v = verdict(r.value);
    if (v.kind === 'block') return { kind: 'invalid', code: v.error.code, message: v.error.message };
    if (v.kind === 'flag') item.violations = v.violations;
  }
  return { kind: 'valid', item, event: r.value, messageIdGiven: r.value.messageId !== null };
}

/** A batch validated: the errors by index, and the items that would be appended (with their indexes and validated events). */
export type PreparedBatch =
  | { kind: 'not_object' }
  | { kind: 'invalid_batch'; message: string }
  | { kind: 'too_many' }
  | { kind: 'prepared'; list: unknown[]; errors: BatchResult['errors']; items: AppendItem[]; indexes: number[]; valid: ValidEvent[] };

/** The batch endpoint's validation, shared with its dry run like prepareSingle. */
export function prepareBatch(workspaceId: string, body: unknown, now: number, verdict: ((v: ValidEvent) => PlanVerdict) | null = null): PreparedBatch {
  if (!isPlainObject(body)) return { kind: 'not_object' };
  const list = body.events;
  if (list === undefined || list === null) return { kind: 'invalid_batch', message: '"events" is required' };
  if (!Array.isArray(list)) return { kind: 'invalid_batch', message: '"events" must be an array' };
  if (list.length === 0) return { kind: 'invalid_batch', message: '"events" must contain at least 1 event' };
  if (list.length > LIMITS.maxBatchEvents) return { kind: 'too_many' };

  const errors: BatchResult['errors'] = [];
  const items: AppendItem[] = [];
  const indexes: number[] = [];
  const valid: ValidEvent[] = [];
  for (let i = 0; i < list.length; i++) {
    const r = validateEvent(list[i], now);
    if (!r.ok) {
      errors.push({ index: i, errors: r.error });
      continue;
    }
    const item = toAppendItem(workspaceId, r.value);
    // Validated items are at most 3 levels deep, so measuring them is safe and bounded.
    if (itemByteLength(list[i] as JsonObject, item.properties, item.traits) > LIMITS.maxEventBytes) {
      errors.push({ index: i, errors: [{ code: 'PAYLOAD_TOO_LARGE', message: 'Event payload exceeds 32KB limit' }] });
      continue;
    }
    if (verdict !== null) {
      const v = verdict(r.value);
      if (v.kind === 'block') {
        errors.push({ index: i, errors: [v.error] });
        continue;
      }
      if (v.kind === 'flag') item.violations = v.violations;
    }
    items.push(item);
    indexes.push(i);
    valid.push(r.value);
  }
  return { kind: 'prepared', list, errors, items, indexes, valid };
}
