import { Worker as Thread } from 'node:worker_threads';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Config } from '../../config/load-config.js';
import {
  StoreUnavailableError,
  type AppendItem,
  type AppendOutcome,
  type ContactStore,
  type EventStore,
  type KeyStore,
  type QueueStore,
  type Store,
  type StoreCapabilities,
} from '../ports.js';
import { withDeadline } from '../deadline.js';
import type { PendingAppend } from '../pending-append.js';
import { SqliteDirectStore } from './sqlite-direct-store.js';
import { deserializeError, type WriterMessage } from './writer-protocol.js';

export interface SqliteStoreOptions {
  /** Milliseconds a write waits for another process's lock before failing with 503 (default 5000). */
  busyTimeoutMs?: number;
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
  private onWorkerMetric: (name: 'processed' | 'retry' | 'failed', value: number) => void = () => {};

  private readonly thread: Thread;
  private checkpointer: Thread | null = null;
  private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private reader: SqliteDirectStore | null = null;
  private pending: PendingAppend[] = [];
  private scheduled = false;
  private dead: Error | null = null;
  private closed = false;

  constructor(readonly path: string, opts: SqliteStoreOptions = {}) {
    this.thread = new Thread(threadScript('sqlite-writer.thread.js'), { workerData: { path, busyTimeoutMs: opts.busyTimeoutMs ?? 5000 } });
    this.thread.on('message', (m: WriterMessage) => this.onMessage(m));
    this.thread.on('error', (err) => this.fail(err));
    this.thread.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`sqlite writer thread exited (${code})`));
    });

    const call = this.call.bind(this);
    const r = () => this.read();
    this.keys = {
      ensureWorkspace: (...a) => call('keys.ensureWorkspace', a),
      createKey: (...a) => call('keys.createKey', a),
      revokeKey: (...a) => call('keys.revokeKey', a),
      listKeys: async () => (await r()).keys.listKeys(),
      listActiveKeys: async () => (await r()).keys.listActiveKeys(),
      findActiveKeyByHash: async (h) => (await r()).keys.findActiveKeyByHash(h),
      countActiveKeys: async () => (await r()).keys.countActiveKeys(),
    };
    this.events = {
      append: (items, now, windowMs) => this.append(items, now, windowMs),
      purgeDedup: (...a) => call('events.purgeDedup', a),
      get: async (ws, id) => (await r()).events.get(ws, id),
      list: async (q) => (await r()).events.list(q),
    };
    this.queue = {
      claim: (...a) => call('queue.claim', a),
      applyToContact: (...a) => call('queue.applyToContact', a),
      applyBatch: (...a) => call('queue.applyBatch', a),
      fail: (...a) => call('queue.fail', a),
      stats: async (now) => (await r()).queue.stats(now),
    };
    this.contacts = {
      upsert: (...a) => call('contacts.upsert', a),
      update: (...a) => call('contacts.update', a),
      delete: (...a) => call('contacts.delete', a),
      get: async (ws, id) => (await r()).contacts.get(ws, id),
      findByEmail: async (ws, e) => (await r()).contacts.findByEmail(ws, e),
      list: async (q) => (await r()).contacts.list(q),
      listPropertyNames: async (ws) => (await r()).contacts.listPropertyNames(ws),
    };
  }

  private onMessage(m: WriterMessage): void {
    if (m.kind === 'metric') {
      this.onWorkerMetric(m.name, m.value);
      return;
    }
    const c = this.calls.get(m.id);
    if (!c) return;
    this.calls.delete(m.id);
    if (m.ok) c.resolve(m.result);
    else c.reject(deserializeError(m.error));
  }

  private fail(err: Error): void {
    this.dead = err;
    const e = new StoreUnavailableError(`sqlite writer unavailable: ${err.message}`, { cause: err });
    for (const c of this.calls.values()) c.reject(e);
    this.calls.clear();
  }

  private call<T>(op: string, args: unknown[]): Promise<T> {
    if (this.dead) return Promise.reject(new StoreUnavailableError(`sqlite writer unavailable: ${this.dead.message}`));
    if (this.closed) return Promise.reject(new StoreUnavailableError('store is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.thread.postMessage({ id, op, args });
    });
  }

  private append(items: AppendItem[], now: number, windowMs: number): Promise<AppendOutcome[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ items, now, windowMs, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flushAppends());
      }
    });
  }

  private flushAppends(): void {
    this.scheduled = false;
    const group = this.pending;
    if (group.length === 0) return;
    this.pending = [];
    this.call<AppendOutcome[][]>('events.appendMany', [group.map((p) => ({ items: p.items, now: p.now, windowMs: p.windowMs }))]).then(
      (results) => group.forEach((p, i) => p.resolve(results[i]!)),
      (err) => group.forEach((p) => p.reject(err)),
    );
  }

  private async read(): Promise<SqliteDirectStore> {
    if (this.reader) return this.reader;
    await this.call('ping', []); // the writer has created the file and set WAL mode
    this.reader ??= new SqliteDirectStore(this.path, { readOnly: true });
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
      (await this.read()).unsafeDatabase().prepare('SELECT 1').get();
      await this.call('ping', []);
    })();
    const { timeoutMs } = opts;
    await (timeoutMs === undefined
      ? probe
      : withDeadline(probe, timeoutMs, () => new StoreUnavailableError(`sqlite store did not answer within ${timeoutMs} ms`)));
  }

  /** Runs background processing on the writer thread (no lock contention with ingest). */
  async startWorker(config: Config, onMetric: (name: 'processed' | 'retry' | 'failed', value: number) => void): Promise<string> {
    this.onWorkerMetric = onMetric;
    return this.call('startWorker', [config]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushAppends();
    try {
      await this.call('close', []);
    } finally {
      this.closed = true;
      this.reader?.closeSync();
      await this.thread.terminate();
      await this.checkpointer?.terminate();
    }
  }
}
