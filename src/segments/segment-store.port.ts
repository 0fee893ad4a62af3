/**
 * The segment store port: segment definitions (rule, build progress) and membership (current
 * members, recorded transitions, the per-contact `performed` hits that counters are made of).
 * Evaluation lives in the module (membership.service.ts); the store only keeps state, and
 * makes each contact's membership change a compare-and-set on its evaluation version, so
 * two workers evaluating one contact at once never lose or double a transition.
 */
import type { JobInput } from '../processing/job-queue.port.js';
import type { SegmentTransition } from './segment-links.js';

export type SegmentStatus = 'building' | 'ready';

export interface SegmentRecord {
  id: string;
  workspaceId: string;
  name: string;
  /** The rule as sent (conditionToJson), JSON. */
  rule: unknown;
  /** Grows at every edit of the rule: a backfill of an older version stops. */
  version: number;
  status: SegmentStatus;
  /** Backfill progress of the current version: contacts evaluated of those there were at its start. */
  buildDone: number;
  buildTotal: number;
  memberCount: number;
  createdAt: number;
  updatedAt: number;
}

export interface SegmentHit {
  contactId: string;
  /** PerformedCondition.key */
  nodeKey: string;
  seq: number;
  /** The event's own timestamp (event time, not arrival). */
  ts: number;
}

export interface HitQuery {
  nodeKey: string;
  /** Inclusive lower bound on ts (-Infinity: every hit). */
  since: number;
  /** Also return the ts of the rank-th newest hit since `since` (1 = newest), if there is one. */
  rank?: number;
}

export interface ContactMembership {
  /** 0 when this contact was never evaluated. */
  version: number;
  members: { segmentId: string; enteredAt: number }[];
}

export interface MembershipChange {
  workspaceId: string;
  contactId: string;
  /** The version read before evaluating (ContactMembership.version). */
  expectedVersion: number;
  enter: string[];
  exit: string[];
  now: number;
  /** In the same transaction: one job of this kind delivering the recorded transitions. */
  delivery?: { kind: string; maxAttempts: number };
}

/** One recorded enter or exit of a segment, with the contact's email when the contact still exists. */
export interface SegmentTransitionRecord {
  /** Grows with every transition recorded: the page order and cursor. */
  id: number;
  contactId: string;
  email: string | null;
  on: 'enter' | 'exit';
  at: number;
}

/** One recorded enter or exit of a contact (its timeline), with the segment's name while it exists. */
export interface ContactTransitionRecord {
  id: number;
  segmentId: string;
  segmentName: string | null;
  on: 'enter' | 'exit';
  at: number;
}

/** A segment's build that nothing is running (see stalledBuilds). */
export interface StalledBuild {
  workspaceId: string;
  id: string;
  version: number;
}

export interface SegmentStore {
  createSegment(s: Omit<SegmentRecord, 'memberCount'>): Promise<void>;
  getSegment(workspaceId: string, id: string): Promise<SegmentRecord | null>;
  /** Every segment of the workspace, oldest first; memberCount is 0 unless asked for (it costs a count per segment). */
  listSegments(workspaceId: string, opts?: { memberCounts?: boolean }): Promise<SegmentRecord[]>;
  /** A new name and/or rule (a new rule: version + 1, status building, progress reset). Null when absent. */
  updateSegment(workspaceId: string, id: string, patch: { name?: string; rule?: unknown; buildTotal?: number; now: number }): Promise<SegmentRecord | null>;
  /** Deletes the segment and its memberships; false when absent. */
  deleteSegment(workspaceId: string, id: string): Promise<boolean>;
  /** Backfill progress of `version` (ignored if the segment moved on): contacts evaluated so far, and status. */
  recordProgress(id: string, version: number, input: { done: number; status: SegmentStatus; now: number }): Promise<void>;
  /** Contacts of the workspace now (a backfill's total). */
  countContacts(workspaceId: string): Promise<number>;

  /** Members by contact id ascending, strictly after `after`. */
  listMembers(segmentId: string, input: { limit: number; after?: string }): Promise<{ contactId: string; enteredAt: number }[]>;
  /** The segment's recorded transitions newest first, with id below `before` (one index range). */
  listTransitions(segmentId: string, input: { limit: number; before?: number }): Promise<SegmentTransitionRecord[]>;
  /** The contact's recorded transitions of every segment of the workspace, newest first, at most `limit` (one index range). */
  contactTransitions(workspaceId: string, contactId: string, limit: number): Promise<ContactTransitionRecord[]>;
  contactMembership(contactId: string): Promise<ContactMembership>;
  /** Idempotent per (contact, node, seq). */
  recordHits(hits: SegmentHit[]): Promise<void>;
  countHits(contactId: string, queries: HitQuery[]): Promise<{ count: number; rankTs: number | null }[]>;
  /** The contact's processed events of these names (a backfill's history), ascending by seq. */
  contactEvents(workspaceId: string, contactId: string, names: string[]): Promise<{ seq: number; event: string; properties: Record<string, unknown> | null; timestamp: number }[]>;
  /**
   * Applies enters and exits if the contact's version is still `expectedVersion` (then +1):
   * `applied: false` when another evaluation got there first (evaluate again). An enter of a
   * member or an exit of a non-member records nothing. Transitions are recorded in order.
   */
  applyMembership(change: MembershipChange): Promise<{ applied: boolean; transitions: SegmentTransition[] }>;
  /**
   * Enqueues recheck timers (idempotent per (kind, key)) without an fsync of their own on
   * SQLite: they are written by a job whose completion comes later, so a power cut that
   * loses them loses that completion too, and the job runs again and writes them again.
   */
  scheduleTimers(jobs: JobInput[], now: number): Promise<void>;

  /**
   * Segments of every workspace still `building`, last updated before `before`, with no queued
   * job of `backfillKind` whose key starts with `<id>:<version>:` (segment-jobs.ts backfillJob):
   * a build whose backfill died or was never enqueued (a crash between the two writes).
   */
  stalledBuilds(input: { before: number; backfillKind: string; limit: number }): Promise<StalledBuild[]>;
  /** The distinct node keys that have hits (one index seek per key). */
  hitKeys(): Promise<string[]>;
  /** Deletes up to `limit` hits of `nodeKey` with ts before `before`; returns how many. */
  pruneHits(nodeKey: string, before: number, limit: number): Promise<number>;
}
