/** The event queue port: accepted events awaiting the contact merge (the worker's first job kind). */
import type { JsonObject } from '../core/types.js';
import type { StoredEvent } from '../events-read/event-reader.port.js';

/** A queued event handed to a worker, leased until `leaseUntil`. */
export interface ClaimedEvent {
  seq: number;
  workspaceId: string;
  email: string;
  /** Raw JSON text of identify.traits as stored (parsed by the worker: a corrupt row is a processing failure). */
  traitsJson: string | null;
  timestamp: number;
  attempts: number;
}

/** One contact's share of a claimed batch, for applyBatch. */
export interface ApplyGroup {
  workspaceId: string;
  email: string;
  events: { seq: number; patch: JsonObject | null; timestamp: number }[];
}

export interface ApplyResult {
  /** Events marked processed. */
  processed: number[];
  /** Events no longer present or no longer leased to this worker (erased, or re-claimed). */
  skipped: number[];
  contactId: string | null;
}


export interface QueueStats {
  /** Queued events; adapters may estimate very deep queues (SQLite: exact up to 10,000). */
  depth: number;
  /** Received-at of the oldest queued event, or null when the queue is empty. */
  oldestReceivedAt: number | null;
  failed: number;
}

export interface QueueStore {
  /** Leases up to `limit` due queued events, oldest first, to `workerId` until `now + leaseMs`. */
  claim(input: { workerId: string; limit: number; now: number; leaseMs: number }): Promise<ClaimedEvent[]>;
  /**
   * In one transaction: re-checks that the events are still leased to `workerId` (an erased
   * contact's events are gone), creates or locks the contact, merges each event's patch by its
   * clock, and marks the events processed. A patch key the contact has no room for (its
   * limits, LIMITS.maxContact*) is not applied; the event is processed all the same, with
   * the refusal in its `error` (describeRefusals).
   */
  applyToContact(input: {
    workerId: string;
    workspaceId: string;
    email: string;
    events: { seq: number; patch: JsonObject | null; timestamp: number }[];
    now: number;
  }): Promise<ApplyResult>;
  /**
   * Applies many contacts' groups in one transaction (one commit for a whole claimed batch);
   * each group is isolated (a savepoint), so one failing group does not undo the others.
   * Results are in input order.
   */
  applyBatch(input: {
    workerId: string;
    groups: { workspaceId: string; email: string; events: { seq: number; patch: JsonObject | null; timestamp: number }[] }[];
    now: number;
    /**
     * The stages after the merge (processing/stages.ts): in the same transaction, one job of
     * this kind, due now, whose payload lists the seqs this call marked processed
     * (`{seqs}`, ascending), keyed `merge:<lowest seq>` (a seq is marked processed once, so
     * the key is unique). None when nothing was processed. So a processed event's stages
     * (workflow triggers, segment membership) are never lost to a crash between two commits.
     */
    followUp?: { kind: string; maxAttempts: number };
  }): Promise<(ApplyResult | { error: unknown })[]>;
  /** Events by seq, in the read API's shape, ascending (missing seqs are absent: erased since). */
  loadEvents(seqs: number[]): Promise<StoredEvent[]>;
  /** Records a failure: back to queued with `retryAt`, or `failed` for good when retryAt is null. */
  fail(input: { workerId: string; seqs: number[]; error: string; retryAt: number | null; now: number }): Promise<void>;
  stats(now: number): Promise<QueueStats>;
  /**
   * Queues the workspace's failed events with this messageId again, due at `now`, attempts
   * reset (the last error kept until they are processed): the dashboard's Retry. Returns how
   * many were failed (0: none, nothing changed).
   */
  retryFailed(input: { workspaceId: string; messageId: string; now: number }): Promise<number>;
}

