/**
 * The SQLite writer thread. It owns the one write connection of this process: appends
 * (group-committed), contact writes, key writes and queue updates all run here, in order,
 * so they never wait on each other's locks and never block the HTTP thread. With
 * `startWorker`, background processing runs here too, between append groups.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { Config } from '../../config/load-config.js';
import { Worker } from '../../processing/worker.js';
import { SqliteDirectStore } from './sqlite-direct-store.js';
import { serializeError, type WriterRequest } from './writer-protocol.js';

const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number };
// 20,000 pages (~80 MB of WAL) is only a backstop: the checkpoint thread keeps it far lower.
const store = new SqliteDirectStore(path, { busyTimeoutMs, autoCheckpointPages: 20_000 });
let worker: Worker | null = null;
const port = parentPort!;

type Target = 'keys' | 'events' | 'queue' | 'contacts';

async function handle(msg: WriterRequest): Promise<unknown> {
  switch (msg.op) {
    case 'migrate':
      return store.migrate();
    case 'ping':
      return store.ping();
    case 'startWorker': {
      const config = msg.args[0] as Config;
      const log = pino({ level: config.logLevel, base: { pid: process.pid, thread: 'sqlite-writer' } });
      worker = new Worker({
        store,
        config,
        log,
        onProcessed: (n) => port.postMessage({ kind: 'metric', name: 'processed', value: n }),
        onFailure: (outcome) => port.postMessage({ kind: 'metric', name: outcome, value: 1 }),
        ingestActive: () => store.events.appendedWithin(50),
      });
      worker.start();
      return worker.id;
    }
    case 'close':
      await worker?.stop();
      worker = null;
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

port.on('message', (msg: WriterRequest) => {
  handle(msg).then(
    (result) => port.postMessage({ kind: 'reply', id: msg.id, ok: true, result }),
    (err: unknown) => port.postMessage({ kind: 'reply', id: msg.id, ok: false, error: serializeError(err) }),
  );
});
