/**
 * The SQLite writer thread. It owns the one write connection of this process: appends
 * (group-committed), contact writes, key writes and queue updates all run here, in order,
 * so they never wait on each other's locks and never block the HTTP thread. Background
 * processing runs elsewhere (processing/worker.ts); its claims and merges arrive here as
 * messages like every other write. This thread imports nothing above storage.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteDirectStore } from './sqlite-direct-store.js';
import { serializeError, type WriterRequest } from './writer-protocol.js';

const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number };
const port = parentPort!;
let store: SqliteDirectStore;
try {
  // 20,000 pages (~80 MB of WAL) is only a backstop: the checkpoint thread keeps it far lower.
  store = new SqliteDirectStore(path, { busyTimeoutMs, autoCheckpointPages: 20_000 });
} catch (err) {
  // Sent as data: an error thrown out of a thread reaches the parent without its message
  // when it is better-sqlite3's SqliteError ("sqlite writer unavailable: undefined").
  port.postMessage({ kind: 'open-failed', error: serializeError(err) });
  process.exit(1);
}

type Target = 'keys' | 'events' | 'queue' | 'contacts' | 'jobs' | 'secrets' | 'identity' | 'workflows' | 'deliveries' | 'segments' | 'users' | 'activity' | 'catalog' | 'trackingPlans';

async function handle(msg: WriterRequest): Promise<unknown> {
  switch (msg.op) {
    case 'migrate':
      return store.migrate();
    case 'ping':
      return store.ping();
    case 'close':
      await store.close();
      return null;
    default: {
      const [target, method] = msg.op.split('.') as [Target, string];
      const sub = store[target] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const fn = sub?.[method];
      if (typeof fn !== 'function') throw new Error(`unknown writer op ${msg.op}`);
      return fn.apply(sub, msg.args);
    }
  }
}

/**
 * The processing engine's unsynced writes: those that arrive together (one drain of the
 * port) commit in one transaction (SqliteDirectStore.inOneCommit). Every other op (appends,
 * API writes, which fsync or group-commit on their own) first ends the batch before it, so
 * the order of ops is the order they were sent.
 */
const BATCHED = new Set([
  'queue.claim',
  'queue.applyBatch',
  'jobs.claim',
  'jobs.complete',
  'jobs.fail',
  'workflows.enter',
  'workflows.exitRuns',
  'workflows.advance',
  'deliveries.createWithJob',
  'deliveries.recordAttempt',
  'segments.recordHits',
  'segments.scheduleTimers',
  'segments.applyMembership',
  'catalog.record',
]);
/** Ops per shared commit: bounds how long one commit holds the thread from an append. */
const MAX_BATCH = 128;
let batch: WriterRequest[] = [];
let flushScheduled = false;

function reply(msg: WriterRequest, result: Promise<unknown>): void {
  result.then(
    (value) => port.postMessage({ kind: 'reply', id: msg.id, ok: true, result: value }),
    (err: unknown) => port.postMessage({ kind: 'reply', id: msg.id, ok: false, error: serializeError(err) }),
  );
}

function run(msg: WriterRequest): Promise<unknown> {
  try {
    return handle(msg);
  } catch (err) {
    return Promise.reject(err);
  }
}

function flushBatch(): void {
  flushScheduled = false;
  while (batch.length) {
    const msgs = batch.slice(0, MAX_BATCH);
    batch = batch.slice(MAX_BATCH);
    if (msgs.length === 1) reply(msgs[0]!, run(msgs[0]!));
    else store.inOneCommit(msgs.map((m) => () => run(m))).forEach((r, i) => reply(msgs[i]!, r));
  }
}

port.on('message', (msg: WriterRequest) => {
  if (BATCHED.has(msg.op)) {
    batch.push(msg);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushBatch);
    }
    return;
  }
  if (batch.length) flushBatch();
  reply(msg, run(msg));
});
