import type { Logger } from 'pino';
import type { Config } from '../config/load-config.js';
import type { Metrics } from '../http/metrics.js';
import type { Store } from '../storage/ports.js';
import { Worker } from './worker.js';

export interface RunningWorker {
  id: string;
  stop(): Promise<void>;
}

/**
 * Starts background processing for this process: on the store's own writer thread when it
 * has one (SQLite), else as an async loop here (PostgreSQL: many such workers share the queue).
 */
export async function startWorker(store: Store, config: Config, log: Logger, metrics: Metrics): Promise<RunningWorker> {
  if (store.startWorker) {
    const id = await store.startWorker(config, (name, value) => {
      if (name === 'processed') metrics.processed.inc(value);
      else metrics.processingFailures.inc({ outcome: name }, value);
    });
    // The writer thread stops its worker when the store closes.
    return { id, stop: async () => {} };
  }
  const w = new Worker({ store, config, log, metrics });
  w.start();
  return { id: w.id, stop: () => w.stop() };
}
