/**
 * The storage port: everything the server and the worker need from a database, in
 * domain terms. Adapters (sqlite/, postgres/) own their connections and all SQL;
 * callers never see a driver type. Backend differences are data (`capabilities`),
 * not `if (isPostgres)` in callers.
 */
import type { ContactLimitCode } from '../core/merge-properties.js';
import type { ContactStatus, EventStatus, JsonObject } from '../core/types.js';

export interface Workspace {
  id: string;
  name: string;
}

export interface ApiKeyRecord {
  id: string;
  workspaceId: string;
  workspaceName: string;
  name: string;
  /** First characters of the secret, for recognising a key in listings. */
  prefix: string;
  /** SHA-256 hex of the secret; the secret itself is never stored. */
  hash: string;
  createdAt: number;
  revokedAt: number | null;
}

/** One validated event ready to be stored (JSON columns already serialised). */
export interface AppendItem {
  workspaceId: string;
  messageId: string;
  event: string;
  email: string;
  /** Compact JSON text, or null. */
  properties: string | null;
  traits: string | null;
  /** Event time, Unix ms. */
  timestamp: number;
}

export type AppendOutcome = 'accepted' | 'duplicate';

export interface StoredEvent {
  /** Acceptance order, unique per store. */
  seq: number;
  workspaceId: string;
  messageId: string;
  event: string;
  email: string;
  contactId: string | null;
  properties: JsonObject | null;
  traits: JsonObject | null;
  timestamp: number;
  receivedAt: number;
  status: EventStatus;
  attempts: number;
  error: string | null;
}

export interface EventCursor {
  timestamp: number;
  seq: number;
}

export interface EventQuery {
  workspaceId: string;
  email?: string;
  event?: string;
  /** Inclusive, Unix ms. */
  since?: number;
  /** Exclusive, Unix ms. */
  until?: number;
  limit: number;
  /** Continue strictly after this (timestamp desc, seq desc) position. */
  after?: EventCursor;
}

export interface ContactRecord {
  id: string;
  workspaceId: string;
  email: string;
  /** All properties including `email` and `status`. */
  properties: JsonObject;
  createdAt: number;
  updatedAt: number;
}

export interface ContactCursor {
  createdAt: number;
  id: string;
}

export interface ContactQuery {
  workspaceId: string;
  limit: number;
  sort: 'createdAt.desc' | 'createdAt.asc';
  search?: string;
  status?: ContactStatus;
  after?: ContactCursor;
}

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

/**
 * What an erasure removed. `contact` is null when the address had no contact yet, only
 * events not applied to one (queued or failed): those are erased all the same.
 */
export interface ContactErasure {
  contact: ContactRecord | null;
  /** Events deleted with it (any status). */
  events: number;
}

export type ContactMutation =
  | { kind: 'ok'; contact: ContactRecord; created: boolean }
  | { kind: 'not_found' }
  | { kind: 'conflict' }
  | { kind: 'invalid'; message: string }
  /** The write would take the contact beyond one of its limits (LIMITS.maxContact*); nothing was written. */
  | { kind: 'limit'; code: ContactLimitCode; message: string };

export interface KeyStore {
  ensureWorkspace(name: string, now: number): Promise<Workspace>;
  createKey(input: { workspaceId: string; name: string; hash: string; prefix: string; now: number }): Promise<ApiKeyRecord>;
  listKeys(): Promise<ApiKeyRecord[]>;
  /** Active (not revoked) keys, for the in-memory authentication cache. */
  listActiveKeys(): Promise<ApiKeyRecord[]>;
  findActiveKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  /** Revokes by key id or by secret hash; returns the revoked key, or null when none matched. */
  revokeKey(idOrHash: string, now: number): Promise<ApiKeyRecord | null>;
  countActiveKeys(): Promise<number>;
}

export interface EventStore {
  /**
   * The hot path: dedup and durably append. Resolves only once every accepted item is
   * committed to disk. Outcomes are in input order; a messageId repeated inside `items`
   * is accepted once, then a duplicate.
   */
  append(items: AppendItem[], now: number, dedupWindowMs: number): Promise<AppendOutcome[]>;
  /** Newest event with this messageId in the workspace. */
  get(workspaceId: string, messageId: string): Promise<StoredEvent | null>;
  /** Newest event time first, ties by acceptance, newest first. */
  list(query: EventQuery): Promise<StoredEvent[]>;
  /** Drops dedup entries accepted at or before `cutoff` (Unix ms): past the window, they reserve nothing. Returns how many. */
  purgeDedup(cutoff: number): Promise<number>;
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
  }): Promise<(ApplyResult | { error: unknown })[]>;
  /** Records a failure: back to queued with `retryAt`, or `failed` for good when retryAt is null. */
  fail(input: { workerId: string; seqs: number[]; error: string; retryAt: number | null; now: number }): Promise<void>;
  stats(now: number): Promise<QueueStats>;
}

export interface ContactStore {
  /** POST /v1/contacts: upsert by email, properties timed at `now`. */
  upsert(workspaceId: string, properties: JsonObject, now: number): Promise<ContactMutation>;
  get(workspaceId: string, id: string): Promise<ContactRecord | null>;
  findByEmail(workspaceId: string, email: string): Promise<ContactRecord | null>;
  /**
   * PUT /v1/contacts/:id: merge at `now`; a new email moves the contact (conflict if taken).
   * Events of the old email not applied yet (queued, failed) move with it: they are this
   * contact's, so they are applied to it, and erased with it, never recreate the old address.
   */
  update(workspaceId: string, id: string, properties: JsonObject, now: number): Promise<ContactMutation>;
  /**
   * Erases the contact and every event of it (queued ones included). By email, an address
   * with no contact yet still has its unapplied events erased (`contact: null`). Null when
   * there was nothing to erase.
   */
  delete(workspaceId: string, by: { id: string } | { email: string }): Promise<ContactErasure | null>;
  list(query: ContactQuery): Promise<ContactRecord[]>;
  listPropertyNames(workspaceId: string): Promise<{ name: string; type: string }[]>;
}

export interface StoreCapabilities {
  /** Several processes may write the same store at once (PostgreSQL). */
  multiProcess: boolean;
  dialect: 'sqlite' | 'postgres';
}

export interface Store {
  readonly capabilities: StoreCapabilities;
  readonly keys: KeyStore;
  readonly events: EventStore;
  readonly queue: QueueStore;
  readonly contacts: ContactStore;
  /** Applies pending migrations; refuses a schema newer than this build knows. */
  migrate(): Promise<{ applied: string[] }>;
  /**
   * Cheap liveness probe for /health. With `timeoutMs`, it fails with StoreUnavailableError
   * once that has passed without an answer, whatever the store is stuck on.
   */
  ping(opts?: { timeoutMs?: number }): Promise<void>;
  /** Flushes pending writes and closes connections. */
  close(): Promise<void>;
  /**
   * Stores that serialise writes on a thread of their own (SQLite) run the in-process worker
   * there, beside ingest, instead of contending for the write lock. Absent elsewhere.
   */
  startWorker?(config: import('../config/load-config.js').Config, onMetric: (name: 'processed' | 'retry' | 'failed', value: number) => void): Promise<string>;
}

/** A storage failure the caller can surface as 503 (database unreachable, busy, disk full). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
