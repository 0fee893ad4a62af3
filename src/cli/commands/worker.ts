import { parseArgs } from 'node:util';
import { Metrics } from '../../http/metrics.js';
import { startWorker } from '../../processing/start-worker.js';
import { configFromEnv, createLogger, openMigratedStore } from '../context.js';
import { onShutdownSignal } from '../shutdown.js';

export const WORKER_HELP = `Usage: smashsend worker

Runs the background worker alone on the store of DATABASE_URL: claims queued events,
creates or updates their contacts, marks them processed. Run as many as you like on PostgreSQL.`;

export async function worker(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean' } } });
  if (values.help) {
    console.log(WORKER_HELP);
    return 0;
  }
  const config = configFromEnv();
  const log = createLogger(config);
  const store = await openMigratedStore(config, log);
  const metrics = new Metrics({ queue: store.queue });
  const w = await startWorker(store, config, log, metrics);
  console.log(`SMASHSEND worker ${w.id} running`);
  await onShutdownSignal(log, async () => {
    await w.stop();
    await store.close();
    const processed = (await metrics.processed.get()).values[0]?.value ?? 0;
    console.log(`SMASHSEND worker ${w.id} stopped: processed ${processed} events`);
  });
  return 0;
}
