import { withDeadline } from '../deadline.js';
import { StoreUnavailableError, type Store, type StoreCapabilities } from '../ports.js';
import type { ReadBounds, ReadTrace } from '../read-bounds.js';
import { PostgresContactStore } from './contact-store.postgres.js';
import { PgDatabase } from './database.postgres.js';
import { PostgresEventStore } from './event-store.postgres.js';
import { PostgresIdentityStore } from './identity-store.postgres.js';
import { PostgresJobQueue } from './job-queue.postgres.js';
import { PostgresKeyStore } from './key-store.postgres.js';
import { migratePostgres } from './migrate.postgres.js';
import { PostgresQueueStore } from './queue-store.postgres.js';
import { PostgresWorkspaceSecretStore } from './workspace-secrets.postgres.js';
import { PostgresDeliveryStore, PostgresWorkflowStore } from './workflow-store.postgres.js';
import { PostgresSegmentStore } from './segment-store.postgres.js';
import { PostgresUserStore } from './user-store.postgres.js';
import { PostgresActivityStore } from './activity-store.postgres.js';
import { PostgresCatalogStore } from './catalog-store.postgres.js';
import { PostgresTrackingPlanStore } from './tracking-plan-store.postgres.js';

export interface PostgresStoreOptions {
  /** Connections this process may open (default 10): bounded, so N processes need N × poolMax server slots. */
  poolMax?: number;
  /** Errors of idle connections (server restart, network cut), for the log; never thrown, never fatal. */
  onError?: (err: unknown) => void;
  /** Longest a statement may run before it fails with StoreUnavailableError (default 5000; 0: no limit). */
  statementTimeoutMs?: number;
  /** Longest wait for a connection before StoreUnavailableError (default 5000). */
  connectTimeoutMs?: number;
  /** Bounds of the read APIs (read-bounds.ts; tests make them small). */
  readBounds?: ReadBounds;
  /** Receives every read statement (tests EXPLAIN them). */
  trace?: ReadTrace;
}

/**
 * The shared store: any number of API and worker processes on one PostgreSQL database.
 * Dedup, claiming and contact merges are made safe across processes by the database itself
 * (unique keys, SKIP LOCKED, row locks), not by anything held in this process. While the
 * database is down, calls fail with StoreUnavailableError; the pool reconnects by itself
 * once it is back.
 */
export class PostgresStore implements Store {
  readonly capabilities: StoreCapabilities = { multiProcess: true, dialect: 'postgres' };
  readonly keys: PostgresKeyStore;
  readonly events: PostgresEventStore;
  readonly queue: PostgresQueueStore;
  readonly contacts: PostgresContactStore;
  readonly jobs: PostgresJobQueue;
  readonly secrets: PostgresWorkspaceSecretStore;
  readonly identity: PostgresIdentityStore;
  readonly workflows: PostgresWorkflowStore;
  readonly deliveries: PostgresDeliveryStore;
  readonly segments: PostgresSegmentStore;
  readonly users: PostgresUserStore;
  readonly activity: PostgresActivityStore;
  readonly catalog: PostgresCatalogStore;
  readonly trackingPlans: PostgresTrackingPlanStore;
  private readonly db: PgDatabase;

  constructor(url: string, opts: PostgresStoreOptions = {}) {
    this.db = new PgDatabase(url, opts);
    this.keys = new PostgresKeyStore(this.db);
    const reading = { ...(opts.readBounds ? { readBounds: opts.readBounds } : {}), ...(opts.trace ? { trace: opts.trace } : {}) };
    this.events = new PostgresEventStore(this.db, reading);
    this.queue = new PostgresQueueStore(this.db);
    this.contacts = new PostgresContactStore(this.db, reading);
    this.jobs = new PostgresJobQueue(this.db);
    this.secrets = new PostgresWorkspaceSecretStore(this.db);
    this.identity = new PostgresIdentityStore(this.db);
    this.workflows = new PostgresWorkflowStore(this.db);
    this.deliveries = new PostgresDeliveryStore(this.db);
    this.segments = new PostgresSegmentStore(this.db);
    this.users = new PostgresUserStore(this.db);
    this.activity = new PostgresActivityStore(this.db);
    this.catalog = new PostgresCatalogStore(this.db);
    this.trackingPlans = new PostgresTrackingPlanStore(this.db);
  }

  async migrate(): Promise<{ applied: string[] }> {
    return { applied: await migratePostgres(this.db, Date.now()) };
  }

  /**
   * One round trip. With `timeoutMs`, bounded as a whole (waiting for a connection of a full
   * pool included) by it; the statement itself then gives its connection up soon after.
   */
  async ping(opts: { timeoutMs?: number } = {}): Promise<void> {
    const { timeoutMs } = opts;
    if (timeoutMs === undefined) {
      await this.db.query('SELECT 1');
      return;
    }
    const probe = this.db.query('SELECT 1', [], undefined, { timeoutMs });
    await withDeadline(probe, timeoutMs, () => new StoreUnavailableError(`PostgreSQL did not answer within ${timeoutMs} ms`));
  }

  /** Waits for in-flight queries (appends are committed when they resolve, so nothing else is pending), then closes the pool. */
  async close(): Promise<void> {
    await this.db.close();
  }
}
