import { Worker as Thread } from 'node:worker_threads';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StoreOpenError, StoreUnavailableError, type EventStore, type Store, type StoreCapabilities } from '../ports.js';
import { type ContactStore } from '../../contacts/contact-store.port.js';
import { type KeyStore } from '../../keys/key-store.port.js';
import { type QueueStore } from '../../processing/event-queue.port.js';
import type { JobQueue } from '../../processing/job-queue.port.js';
import type { WorkspaceSecretStore } from '../../workflows/workspace-secrets.port.js';
import type { DeliveryStore, WorkflowStore } from '../../workflows/workflow-store.port.js';
import { signingSecretsOf } from '../shared/secret-rows.js';
import type { IdentityStore } from '../../ingest/segment/identity-store.port.js';
import type { SegmentStore } from '../../segments/segment-store.port.js';
import type { UserStore } from '../../users/user-store.port.js';
import type { ActivityStore } from '../../activity/activity.port.js';
import type { CatalogStore } from '../../catalog/catalog-store.port.js';
import type { TrackingPlanStore } from '../../tracking-plan/tracking-plan-store.port.js';
import type { AppendRequest, AppendResult } from '../shared/append-request.js';
import { GroupCommit } from '../shared/group-commit.js';
import { acquireIngestLock, type IngestLock } from './ingest-lock.sqlite.js';
import { withDeadline } from '../deadline.js';
import type { ReadBounds, ReadTrace } from '../read-bounds.js';
import { SqliteDirectStore } from './sqlite-direct-store.js';
import { prepareStorePath } from './store-path.sqlite.js';
import { deserializeError, type WriterMessage } from './writer-protocol.js';

export interface SqliteStoreOptions {
  /** Milliseconds a write waits for another process's lock before failing with 503 (default 5000). */
  busyTimeoutMs?: number;
  /** Create the database file when it does not exist (default true); false refuses with StoreOpenError. */
  create?: boolean;
  /**
   * Take the file's ingest lock (ingest-lock.sqlite.ts), refusing with StoreLockedError while
   * another process holds it: what `smashsend serve` does. Default false.
   */
  exclusive?: boolean;
  /** Bounds of the read APIs (read-bounds.ts; tests make them small). */
  readBounds?: ReadBounds;
  /** Receives every read statement of the reading connection (tests EXPLAIN them). */
  trace?: ReadTrace;
}

/**
 * The thread script is compiled JavaScript. Under the test runner this module is loaded from
 * src/*.ts, so point at the same file in dist/ (built by `npm run build`, which `npm test` runs first).
 */
function threadScript(name: string): URL {
  const here = fileURLToPath(import.meta.url);
  const js = here.endsWith('.ts') ? here.replace(`${sep}src${sep}`, `${sep}dist${sep}`).replace(/\.ts$/, '.js') : here;
  return pathToFileURL(join(dirname(js), name));
}

/**
 * The embedded store as the server uses it: reads run here on a read-only connection (WAL
 * readers never wait for the writer), every write runs on one writer thread. So an fsync, a
 * contact merge or a processing batch never stalls the HTTP event loop, and writes never
 * contend for SQLite's lock inside one process. Appends arriving in one event-loop turn go
 * to the writer as one message and commit in one transaction.
 */
export class SqliteStore implements Store {
  readonly capabilities: StoreCapabilities = { multiProcess: false, dialect: 'sqlite' };
  readonly keys: KeyStore;
  readonly events: EventStore;
  readonly queue: QueueStore;
  readonly contacts: ContactStore;
  readonly jobs: JobQueue;
  readonly secrets: WorkspaceSecretStore;
  readonly identity: IdentityStore;
  readonly workflows: WorkflowStore;
  readonly deliveries: DeliveryStore;
  readonly segments: SegmentStore;
  readonly users: UserStore;
  readonly activity: ActivityStore;
  readonly catalog: CatalogStore;
  readonly trackingPlans: TrackingPlanStore;

  private readonly thread: Thread;
  private checkpointer: Thread | null = null;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private reader: SqliteDirectStore | null = null;
  /** Appends arriving in one event-loop turn go to the writer as one message (and commit there as one transaction). */
  private readonly appends = new GroupCommit<AppendRequest, AppendResult>((group) => this.call<AppendResult[]>('events.appendMany', [group]));
  private dead: Error | null = null;
  private closed = false;
  private readonly lock: IngestLock | null;
  private readonly reading: { readBounds?: ReadBounds; trace?: ReadTrace };
  /** The absolute path of the database file. */
  readonly path: string;
  /** The database file did not exist before this store opened it. */
  readonly created: boolean;

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    // Checked here, on the calling thread, so that a bad path fails the start at once with the
    // path and the OS error code (the writer thread's own failure would arrive later, as a 503).
    this.reading = { ...(opts.readBounds ? { readBounds: opts.readBounds } : {}), ...(opts.trace ? { trace: opts.trace } : {}) };
    const prepared = prepareStorePath(path, { create: opts.create ?? true });
    this.path = prepared.path;
    this.created = !prepared.exists;
    this.lock = opts.exclusive ? acquireIngestLock(this.path) : null;
    this.thread = new Thread(threadScript('sqlite-writer.thread.js'), { workerData: { path: this.path, busyTimeoutMs: opts.busyTimeoutMs ?? 5000 } });
    this.thread.on('message', (m: WriterMessage) => this.onMessage(m));
    this.thread.on('error', (err) => this.fail(err));
    this.thread.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`sqlite writer thread exited (${code})`));
    });

    const call = this.call.bind(this);
    const r = () => this.read();
    this.keys = {
      ensureWorkspace: (...a) => call('keys.ensureWorkspace', a),
      ensureTestWorkspace: (...a) => call('keys.ensureTestWorkspace', a),
      findWorkspace: async (id) => (await r()).keys.findWorkspace(id),
      createKey: (...a) => call('keys.createKey', a),
      revokeKey: (...a) => call('keys.revokeKey', a),
      listKeys: async () => (await r()).keys.listKeys(),
      listActiveKeys: async () => (await r()).keys.listActiveKeys(),
      findActiveKeyByHash: async (h) => (await r()).keys.findActiveKeyByHash(h),
      countActiveKeys: async () => (await r()).keys.countActiveKeys(),
      recordKeyUse: (...a) => call('keys.recordKeyUse', a),
    };
    this.events = {
      append: (items, now, windowMs) => this.appends.submit({ items, now, windowMs }),
      purgeDedup: (...a) => call('events.purgeDedup', a),
      // The writer thread holds the newest dedup keys in memory: ask it.
      firstAcceptedAt: (...a) => call('events.firstAcceptedAt', a),
      // The ledger's newest keys are in the writer's memory: asked of it behind a deep queue.
      get: async (ws, id) => (await r()).events.getWith(ws, id, (w, m) => call('events.recentEventId', [w, m])),
      list: async (q) => (await r()).events.list(q),
    };
    this.queue = {
      claim: (...a) => call('queue.claim', a),
      applyToContact: (...a) => call('queue.applyToContact', a),
      applyBatch: (...a) => call('queue.applyBatch', a),
      fail: (...a) => call('queue.fail', a),
      retryFailed: (...a) => call('queue.retryFailed', a),
      stats: async (now) => (await r()).queue.stats(now),
      loadEvents: async (seqs) => (await r()).queue.loadEvents(seqs),
    };
    this.contacts = {
      upsert: (...a) => call('contacts.upsert', a),
      update: (...a) => call('contacts.update', a),
      delete: (...a) => call('contacts.delete', a),
      get: async (ws, id) => (await r()).contacts.get(ws, id),
      findByEmail: async (ws, e) => (await r()).contacts.findByEmail(ws, e),
      list: async (q) => (await r()).contacts.list(q),
      listPropertyNames: async (ws) => (await r()).contacts.listPropertyNames(ws),
      provenance: async (ws, id) => (await r()).contacts.provenance(ws, id),
      mergeState: async (ws, e) => (await r()).contacts.mergeState(ws, e),
    };
    this.jobs = {
      enqueue: (...a) => call('jobs.enqueue', a),
      claim: (...a) => call('jobs.claim', a),
      complete: (...a) => call('jobs.complete', a),
      fail: (...a) => call('jobs.fail', a),
      retry: (...a) => call('jobs.retry', a),
      purgeDone: (...a) => call('jobs.purgeDone', a),
      get: async (id) => (await r()).jobs.get(id),
      listDead: async (q) => (await r()).jobs.listDead(q),
      stats: async (now) => (await r()).jobs.stats(now),
      nextDueAt: async (kinds) => (await r()).jobs.nextDueAt(kinds),
    };
    // Every delivery reads its signing secrets: an existing row is read here, on the read
    // connection; only a first use (which creates the row) or a rotation goes to the writer.
    // A Buffer crosses the thread boundary as a plain Uint8Array: made a Buffer again.
    const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    this.secrets = {
      webhookSecret: async (ws, now) => (await r()).secrets.find(ws)?.webhook_secret ?? call('secrets.webhookSecret', [ws, now]),
      signingSecrets: async (ws, now) => {
        const row = (await r()).secrets.find(ws);
        return row ? signingSecretsOf(row, now) : call('secrets.signingSecrets', [ws, now]);
      },
      rotateWebhookSecret: (...a) => call('secrets.rotateWebhookSecret', a),
      unsubscribeKey: async (ws, now) => {
        const found = await (await r()).secrets.findUnsubscribeKey(ws);
        return found ?? toBuffer(await call<Uint8Array>('secrets.unsubscribeKey', [ws, now]));
      },
      findUnsubscribeKey: async (ws) => (await r()).secrets.findUnsubscribeKey(ws),
    };
    this.identity = {
      record: (...a) => call('identity.record', a),
      release: (...a) => call('identity.release', a),
      purgeHeld: (...a) => call('identity.purgeHeld', a),
      resolve: async (ws, ids) => (await r()).identity.resolve(ws, ids),
      heldFor: async (ws, ids, limit) => (await r()).identity.heldFor(ws, ids, limit),
      aliasesOf: async (ws, id) => (await r()).identity.aliasesOf(ws, id),
      countHeld: async () => (await r()).identity.countHeld(),
    };
    // Workflow writes on the writer thread; reads on the read connection.
    this.workflows = {
      save: (...a) => call('workflows.save', a),
      setStatus: (...a) => call('workflows.setStatus', a),
      delete: (...a) => call('workflows.delete', a),
      get: async (...a) => (await r()).workflows.get(...a),
      list: async (q) => (await r()).workflows.list(q),
      revisions: async (ids) => (await r()).workflows.revisions(ids),
      forWorkspace: async (ws) => (await r()).workflows.forWorkspace(ws),
      enter: (...a) => call('workflows.enter', a),
      exitRuns: (...a) => call('workflows.exitRuns', a),
      advance: (...a) => call('workflows.advance', a),
      getRun: async (...a) => (await r()).workflows.getRun(...a),
      listRuns: async (q) => (await r()).workflows.listRuns(q),
      traces: async (...a) => (await r()).workflows.traces(...a),
      contactEvents: async (q) => (await r()).workflows.contactEvents(q),
    };
    this.deliveries = {
      // The first job's key is built from the id: resolved here, the function cannot cross threads.
      create: (d, firstJob, now) => call('deliveries.createWithJob', [d, firstJob(d.id), now]),
      get: async (...a) => (await r()).deliveries.get(...a),
      list: async (q) => (await r()).deliveries.list(q),
      recordAttempt: (...a) => call('deliveries.recordAttempt', a),
      retry: (...a) => call('deliveries.retry', a),
    };
    this.segments = {
      createSegment: (...a) => call('segments.createSegment', a),
      updateSegment: (...a) => call('segments.updateSegment', a),
      deleteSegment: (...a) => call('segments.deleteSegment', a),
      recordProgress: (...a) => call('segments.recordProgress', a),
      recordHits: (...a) => call('segments.recordHits', a),
      applyMembership: (...a) => call('segments.applyMembership', a),
      scheduleTimers: (...a) => call('segments.scheduleTimers', a),
      pruneHits: (...a) => call('segments.pruneHits', a),
      getSegment: async (ws, id) => (await r()).segments.getSegment(ws, id),
      listSegments: async (ws, o) => (await r()).segments.listSegments(ws, o),
      countContacts: async (ws) => (await r()).segments.countContacts(ws),
      listMembers: async (id, q) => (await r()).segments.listMembers(id, q),
      listTransitions: async (id, q) => (await r()).segments.listTransitions(id, q),
      contactTransitions: async (ws, id, n) => (await r()).segments.contactTransitions(ws, id, n),
      stalledBuilds: async (q) => (await r()).segments.stalledBuilds(q),
      hitKeys: async () => (await r()).segments.hitKeys(),
      contactMembership: async (id) => (await r()).segments.contactMembership(id),
      countHits: async (id, q) => (await r()).segments.countHits(id, q),
      contactEvents: async (ws, id, n) => (await r()).segments.contactEvents(ws, id, n),
    };
    this.users = {
      createUser: (...a) => call('users.createUser', a),
      addMemberships: (...a) => call('users.addMemberships', a),
      setPassword: (...a) => call('users.setPassword', a),
      createSession: (...a) => call('users.createSession', a),
      switchWorkspace: (...a) => call('users.switchWorkspace', a),
      setTestMode: (...a) => call('users.setTestMode', a),
      deleteSession: (...a) => call('users.deleteSession', a),
      purgeExpired: (...a) => call('users.purgeExpired', a),
      createSetupToken: (...a) => call('users.createSetupToken', a),
      consumeSetupToken: (...a) => call('users.consumeSetupToken', a),
      getUser: async (id) => (await r()).users.getUser(id),
      findUserByEmail: async (e) => (await r()).users.findUserByEmail(e),
      countUsers: async () => (await r()).users.countUsers(),
      findSession: async (h, now) => (await r()).users.findSession(h, now),
    };
    this.activity = {
      record: (...a) => call('activity.record', a),
      positions: async () => (await r()).activity.positions(),
      acceptedAfter: async (...a) => (await r()).activity.acceptedAfter(...a),
      acceptedIn: async (...a) => (await r()).activity.acceptedIn(...a),
      activityAfter: async (...a) => (await r()).activity.activityAfter(...a),
      stats: async (q) => (await r()).activity.stats(q),
    };
    this.catalog = {
      record: (...a) => call('catalog.record', a),
      purgeBatches: (...a) => call('catalog.purgeBatches', a),
      list: async (ws, b) => (await r()).catalog.list(ws, b),
    };
    this.trackingPlans = {
      put: (...a) => call('trackingPlans.put', a),
      delete: (...a) => call('trackingPlans.delete', a),
      get: async (ws) => (await r()).trackingPlans.get(ws),
      version: async (ws) => (await r()).trackingPlans.version(ws),
      flaggedEvents: async (ws, n) => (await r()).trackingPlans.flaggedEvents(ws, n),
    };
  }

  private onMessage(m: WriterMessage): void {
    if (m.kind === 'open-failed') {
      const code = m.error.code ?? 'EUNKNOWN';
      this.fail(new StoreOpenError(`cannot open ${this.path}: ${m.error.message} (${code})`, this.path, code));
      return;
    }
    const c = this.calls.get(m.id);
    if (!c) return;
    this.calls.delete(m.id);
    if (m.ok) c.resolve(m.result);
    else c.reject(deserializeError(m.error));
  }

  private fail(err: unknown): void {
    if (this.dead) return; // the first cause is the one to report (an exit follows every failure)
    this.dead = err instanceof Error ? err : new Error(String(err));
    const e = this.deadError();
    for (const c of this.calls.values()) c.reject(e);
    this.calls.clear();
  }

  /** A failed open stays a StoreOpenError (a start-up failure); anything later is a 503. */
  private deadError(): Error {
    const dead = this.dead!;
    if (dead instanceof StoreOpenError) return dead;
    return new StoreUnavailableError(`sqlite writer unavailable: ${dead.message || dead.name || 'unknown error'}`, { cause: dead });
  }

  private call<T>(op: string, args: unknown[]): Promise<T> {
    if (this.dead) return Promise.reject(this.deadError());
    if (this.closed) return Promise.reject(new StoreUnavailableError('store is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.thread.postMessage({ id, op, args });
    });
  }

  private async read(): Promise<SqliteDirectStore> {
    if (this.reader) return this.reader;
    await this.call('ping', []); // the writer has created the file and set WAL mode
    this.reader ??= new SqliteDirectStore(this.path, { readOnly: true, ...this.reading });
    return this.reader;
  }

  private startCheckpointer(): void {
    if (this.checkpointer || this.closed) return;
    this.checkpointer = new Thread(threadScript('sqlite-checkpoint.thread.js'), { workerData: { path: this.path } });
    // A dead checkpointer only costs speed: the writer's auto-checkpoint takes over.
    this.checkpointer.on('error', () => {});
    this.checkpointer.unref();
  }

  async migrate(): Promise<{ applied: string[] }> {
    const r = await this.call<{ applied: string[] }>('migrate', []);
    this.startCheckpointer();
    return r;
  }

  /**
   * Both connections answer: reads here, and the writer thread (which every write needs).
   * With `timeoutMs`, a writer thread busy for longer than that (a write stuck behind another
   * process's lock, say) makes the probe fail rather than wait.
   */
  async ping(opts: { timeoutMs?: number } = {}): Promise<void> {
    const probe = (async () => {
      await (await this.read()).ping();
      await this.call('ping', []);
    })();
    const { timeoutMs } = opts;
    await (timeoutMs === undefined
      ? probe
      : withDeadline(probe, timeoutMs, () => new StoreUnavailableError(`sqlite store did not answer within ${timeoutMs} ms`)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.appends.flush();
    try {
      await this.call('close', []);
    } finally {
      this.closed = true;
      this.reader?.closeSync();
      await this.thread.terminate();
      await this.checkpointer?.terminate();
      this.lock?.release();
    }
  }
}
