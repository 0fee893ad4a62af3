/**
 * What a store is: one adapter per module port, opened together on one database. Each port
 * lives with its module (keys/, ingest/, events-read/, contacts/, processing/, workflows/); adapters
 * (sqlite/, postgres/) own their connections and all SQL, and callers never see a driver
 * type. Backend differences are data (`capabilities`), not `if (isPostgres)` in callers.
 */
import type { ContactStore } from '../contacts/contact-store.port.js';
import type { EventReader } from '../events-read/event-reader.port.js';
import type { EventLog } from '../ingest/event-log.port.js';
import type { IdentityStore } from '../ingest/segment/identity-store.port.js';
import type { KeyStore } from '../keys/key-store.port.js';
import type { QueueStore } from '../processing/event-queue.port.js';
import type { JobQueue } from '../processing/job-queue.port.js';
import type { WorkspaceSecretStore } from '../workflows/workspace-secrets.port.js';
import type { DeliveryStore, WorkflowStore } from '../workflows/workflow-store.port.js';
import type { SegmentStore } from '../segments/segment-store.port.js';
import type { UserStore } from '../users/user-store.port.js';
import type { ActivityStore } from '../activity/activity.port.js';
import type { CatalogStore } from '../catalog/catalog-store.port.js';
import type { TrackingPlanStore } from '../tracking-plan/tracking-plan-store.port.js';

/** What one adapter of the events table serves: the hot path's log and the read API. */
export type EventStore = EventLog & EventReader;

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
  readonly jobs: JobQueue;
  readonly secrets: WorkspaceSecretStore;
  /** Segment-compatible ingestion: id → email links and the events held until one resolves. */
  readonly identity: IdentityStore;
  readonly workflows: WorkflowStore;
  readonly deliveries: DeliveryStore;
  readonly segments: SegmentStore;
  /** Dashboard users and sessions. */
  readonly users: UserStore;
  /** Ingest counters and the duplicates/rejections log (stats, live view). */
  readonly activity: ActivityStore;
  /** The event catalogue: names, volumes and property types per workspace. */
  readonly catalog: CatalogStore;
  /** Per-workspace tracking plans (and the events they flagged). */
  readonly trackingPlans: TrackingPlanStore;
  /** Applies pending migrations; refuses a schema newer than this build knows. */
  migrate(): Promise<{ applied: string[] }>;
  /**
   * Cheap liveness probe for /health. With `timeoutMs`, it fails with StoreUnavailableError
   * once that has passed without an answer, whatever the store is stuck on.
   */
  ping(opts?: { timeoutMs?: number }): Promise<void>;
  /** Flushes pending writes and closes connections. */
  close(): Promise<void>;
}

/** A storage failure the caller can surface as 503 (database unreachable, busy, disk full). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  /**
   * The store answers but refuses writes (disk full, read-only): set by the adapters from the
   * driver's code, so /health can say `degraded` while reads still work.
   */
  readonly writeRefused: boolean;
  constructor(message: string, options?: { cause?: unknown; writeRefused?: boolean }) {
    super(message, options);
    this.writeRefused = options?.writeRefused === true;
  }
}

/**
 * The store cannot be opened where DATABASE_URL points (a start-up failure, not a 503): its
 * directory cannot be created, it is not writable, or it does not exist and must not be
 * created. `code` is the OS or SQLite error code (`ENOENT`, `EACCES`, `SQLITE_CANTOPEN`).
 */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
  constructor(
    message: string,
    readonly path: string,
    readonly code: string,
    options?: { cause?: unknown; reason?: 'missing' | 'unusable' },
  ) {
    super(message, options);
    this.reason = options?.reason ?? 'unusable';
  }
  /** `missing`: the store does not exist and was not to be created; `unusable`: it cannot be opened. */
  readonly reason: 'missing' | 'unusable';
}

/** Another process holds the store's exclusive ingest lock (SQLite: one `smashsend serve` per file). */
export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
  constructor(
    message: string,
    readonly path: string,
    readonly holderPid: number | null,
  ) {
    super(message);
  }
}
