/**
 * Live membership: evaluates one contact against the segments that can have changed for it,
 * and records the enters and exits (with their delivery job, in one transaction). Counters:
 * each `performed` node keeps, per contact, the events it matched (seq and event time:
 * segment_hits), so `count … within` is an indexed count over that node's hits, never a scan
 * of the contact's history. Time: each evaluation schedules one durable recheck job at the
 * next instant the result can change by the clock alone (the n-th newest counted event
 * leaving its window, a `within_last` date), so a contact leaves on time without polling.
 */
import { DEFAULT_COUNT, type PerformedCondition } from '../core/conditions/condition.js';
import { evaluate, eventMatchesPerformed, nextPropertyChangeAt, performedExpiry, performedWindowStart } from '../core/conditions/evaluate.js';
import type { ContactRecord, ContactStore } from '../contacts/contact-store.port.js';
import type { JobInput } from '../processing/job-queue.port.js';
import { compileSegment, evaluationOrder, rankOf, withDependents, type CompiledSegment } from './segment-rules.js';
import type { SegmentHit, SegmentStore } from './segment-store.port.js';

export const SEGMENT_RECHECK_KIND = 'segments.recheck';
export const SEGMENT_TRANSITIONS_KIND = 'segments.transitions';
export const TRANSITIONS_MAX_ATTEMPTS = 10;
/** Evaluations of one contact that lose the compare-and-set before the job fails (and is retried). */
const MAX_CAS_ATTEMPTS = 8;

export interface EvaluationResult {
  enter: string[];
  exit: string[];
}

export class MembershipService {
  constructor(private readonly deps: { segments: SegmentStore; contacts: Pick<ContactStore, 'get'> }) {}

  /** The workspace's segments, parsed, in evaluation order. */
  async definitions(workspaceId: string): Promise<CompiledSegment[]> {
    const records = await this.deps.segments.listSegments(workspaceId);
    const out: CompiledSegment[] = [];
    for (const r of records) {
      try {
        out.push(compileSegment(r));
      } catch {
        // A stored rule this build cannot parse is skipped, not fatal for the others.
      }
    }
    return evaluationOrder(out);
  }

  /** The hits an event makes for the performed nodes of these segments. */
  hitsOf(defs: CompiledSegment[], contactId: string, e: { seq: number; event: string; properties: Record<string, unknown> | null; timestamp: number }): SegmentHit[] {
    const out: SegmentHit[] = [];
    const seen = new Set<string>();
    for (const d of defs) {
      if (!d.refs.events.has(e.event)) continue;
      for (const node of d.refs.performed) {
        if (seen.has(node.key)) continue;
        if (eventMatchesPerformed(node, { name: e.event, properties: e.properties })) {
          seen.add(node.key);
          out.push({ contactId, nodeKey: node.key, seq: e.seq, ts: e.timestamp });
        }
      }
    }
    return out;
  }

  /** The segments an event can change for its contact: those whose rule names the event, or one of the traits it sets. */
  candidatesFor(defs: CompiledSegment[], events: readonly { event: string; traits: Record<string, unknown> | null }[]): Set<string> {
    const candidates = new Set<string>();
    for (const def of defs) {
      for (const e of events) {
        if (def.refs.events.has(e.event) || (e.traits && Object.keys(e.traits).some((k) => def.refs.properties.has(k)))) {
          candidates.add(def.record.id);
          break;
        }
      }
    }
    return candidates;
  }

  /**
   * What processing `event` would do to the contact's memberships, written nowhere (a dry
   * run): the same candidates and the same judgement as the membership stage, on the contact
   * as the merge would leave it (`after`), with the event's own hits counted beside the
   * stored ones. `contactId` null: a contact the event would create.
   */
  async preview(input: {
    workspaceId: string;
    contactId: string | null;
    after: ContactRecord;
    event: { event: string; properties: Record<string, unknown> | null; traits: Record<string, unknown> | null; timestamp: number };
    now: number;
  }): Promise<EvaluationResult> {
    const defs = await this.definitions(input.workspaceId);
    if (defs.length === 0) return { enter: [], exit: [] };
    const state = input.contactId === null ? { version: 0, members: [] } : await this.deps.segments.contactMembership(input.contactId);
    const picked = state.version === 0 ? new Set(defs.map((d) => d.record.id)) : withDependents(defs, this.candidatesFor(defs, [input.event]));
    if (picked.size === 0) return { enter: [], exit: [] };
    const current = new Set(state.members.map((m) => m.segmentId));
    const e = input.event;
    const hits = this.hitsOf(defs, input.after.id, { seq: 0, event: e.event, properties: e.properties, timestamp: e.timestamp });
    const { result } = await this.judge(input.after, defs.filter((d) => picked.has(d.record.id)), current, input.now, hits);
    const enter: string[] = [];
    const exit: string[] = [];
    for (const [id, member] of result) {
      if (member && !current.has(id)) enter.push(id);
      if (!member && current.has(id)) exit.push(id);
    }
    return { enter, exit };
  }

  /**
   * Evaluates the contact against `candidates` (segment ids; all when the contact was never
   * evaluated) and those that name them, applies the difference, and returns it with the
   * recheck job to enqueue (if the result can change with time).
   */
  async evaluateContact(input: {
    workspaceId: string;
    contactId: string;
    defs: CompiledSegment[];
    candidates: Set<string> | 'all';
    now: number;
    /** Where the recheck timer goes (default: scheduled at once; the stage collects them per job). */
    enqueue?: (jobs: JobInput[]) => Promise<unknown>;
  }): Promise<EvaluationResult> {
    const enqueue = input.enqueue ?? ((jobs: JobInput[]) => this.deps.segments.scheduleTimers(jobs, now));
    const { workspaceId, contactId, defs, now } = input;
    for (let attempt = 1; ; attempt++) {
      const state = await this.deps.segments.contactMembership(contactId);
      const contact = await this.deps.contacts.get(workspaceId, contactId);
      const picked = state.version === 0 || input.candidates === 'all' ? new Set(defs.map((d) => d.record.id)) : withDependents(defs, input.candidates);
      const current = new Set(state.members.map((m) => m.segmentId));
      if (picked.size === 0) return { enter: [], exit: [] };
      const evaluated = defs.filter((d) => picked.has(d.record.id));
      const { result, recheckAt } = await this.judge(contact, evaluated, current, now);
      const enter: string[] = [];
      const exit: string[] = [];
      for (const [id, member] of result) {
        if (member && !current.has(id)) enter.push(id);
        if (!member && current.has(id)) exit.push(id);
      }
      // A contact that is gone leaves what it was in (segments deleted since are ignored by the store).
      if (!contact) for (const id of current) if (!result.has(id)) exit.push(id);
      if (enter.length === 0 && exit.length === 0 && state.version > 0) {
        await this.schedule(contactId, workspaceId, recheckAt, enqueue);
        return { enter, exit };
      }
      const r = await this.deps.segments.applyMembership({
        workspaceId,
        contactId,
        expectedVersion: state.version,
        enter,
        exit,
        now,
        delivery: { kind: SEGMENT_TRANSITIONS_KIND, maxAttempts: TRANSITIONS_MAX_ATTEMPTS },
      });
      if (r.applied) {
        await this.schedule(contactId, workspaceId, recheckAt, enqueue);
        return { enter, exit };
      }
      if (attempt >= MAX_CAS_ATTEMPTS) throw new Error(`segment membership of ${contactId}: ${attempt} concurrent evaluations lost the race`);
    }
  }

  private async schedule(contactId: string, workspaceId: string, at: number | null, enqueue: (jobs: JobInput[]) => Promise<unknown>): Promise<void> {
    if (at === null) return;
    // Keyed by the instant: an evaluation repeated (a retried job) schedules the same timer
    // once. A newer event moves the recheck later by making a later key; the earlier timer
    // then finds nothing to change, which costs one evaluation.
    await enqueue([{ kind: SEGMENT_RECHECK_KIND, key: `${contactId}:${at}`, payload: { workspaceId, contactId }, runAt: at, maxAttempts: 10 }]);
  }

  /** Membership of each evaluated segment, and the next instant any can change by time alone. */
  private async judge(
    contact: ContactRecord | null,
    evaluated: CompiledSegment[],
    current: Set<string>,
    now: number,
    /** Hits not recorded (a preview's event): counted beside the stored ones. */
    extraHits: readonly Pick<SegmentHit, 'nodeKey' | 'ts'>[] = [],
  ): Promise<{ result: Map<string, boolean>; recheckAt: number | null }> {
    const result = new Map<string, boolean>();
    if (!contact) {
      for (const d of evaluated) result.set(d.record.id, false);
      return { result, recheckAt: null };
    }
    // One query per distinct (node key, rank) of the evaluated rules.
    const queries = new Map<string, { node: PerformedCondition; rank: number }>();
    const nodeQuery = (node: PerformedCondition): { q: string; rank: number } => {
      const count = node.count ?? DEFAULT_COUNT;
      const rank = rankOf(node) === 'nth' ? Math.max(1, count.gte ?? 1) : 0;
      return { q: `${rank}\u0000${node.key}`, rank };
    };
    for (const d of evaluated) {
      for (const node of d.refs.performed) {
        const { q, rank } = nodeQuery(node);
        if (!queries.has(q)) queries.set(q, { node, rank });
      }
    }
    const list = [...queries.entries()];
    const answers = await this.deps.segments.countHits(
      contact.id,
      list.map(([, { node, rank }]) => ({ nodeKey: node.key, since: performedWindowStart(node, now), ...(rank > 0 ? { rank } : {}) })),
    );
    const counts = new Map<string, number>();
    let recheckAt: number | null = null;
    const consider = (t: number | null): void => {
      if (t !== null && t > now && (recheckAt === null || t < recheckAt)) recheckAt = t;
    };
    list.forEach(([, { node, rank }], i) => {
      const a = answers[i]!;
      const since = performedWindowStart(node, now);
      counts.set(node.key, a.count + extraHits.filter((h) => h.nodeKey === node.key && h.ts >= since).length);
      if (node.withinMs === undefined && node.within === undefined) return;
      // `count ≥ n`: the result flips when the n-th newest counted event leaves the window.
      if (rank > 0 && a.rankTs !== null) consider(performedExpiry(node, a.rankTs));
    });
    // For other bounds (lte, eq) any counted event leaving can flip the result: the oldest one.
    const oldest = list.filter(([, v]) => v.rank === 0 && (v.node.withinMs !== undefined || v.node.within !== undefined));
    if (oldest.length) {
      const more = await this.deps.segments.countHits(
        contact.id,
        oldest.map(([, { node }]) => ({ nodeKey: node.key, since: performedWindowStart(node, now), rank: counts.get(node.key) ?? 0 })),
      );
      oldest.forEach(([, { node }], i) => {
        const ts = more[i]!.rankTs;
        if (ts !== null) consider(performedExpiry(node, ts));
      });
    }
    const view: Record<string, unknown> = { ...contact.properties, id: contact.id, email: contact.email };
    for (const d of evaluated) {
      const member = evaluate(d.rule, {
        contact: view,
        event: null,
        now,
        performedCount: (node) => counts.get(node.key) ?? 0,
        inSegment: (id) => (result.has(id) ? result.get(id)! : current.has(id)),
      });
      result.set(d.record.id, member);
      if (d.refs.timeDependent) consider(nextPropertyChangeAt(d.rule, { contact: view, event: null, now }));
    }
    return { result, recheckAt };
  }
}
