import { Metrics } from '../../server/metrics.js';
import { startWorker } from '../../worker/start-worker.js';
import { parseCommandArgs } from '../args.js';
import { configFromEnv, createLogger, openCliStore } from '../context.js';
import { onShutdownSignal } from '../shutdown.js';

export const WORKER_HELP = `Usage: smashsend worker

Runs the background worker alone on the store of DATABASE_URL: claims queued events,
creates or updates their contacts, marks them processed. Run as many as you like on PostgreSQL.
On SQLite it may run beside the one \`smashsend serve\` of the file (e.g. \`serve --no-worker\`):
it appends no events, so it takes no ingest lock; its writes queue on SQLite's write lock.`;

export async function worker(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(WORKER_HELP);
    return 0;
  }
  const config = configFromEnv();
  const log = createLogger(config);
  const store = await openCliStore(config, 'write', log);
  const metrics = new Metrics({ queue: store.queue });
  const w = await startWorker(store, config, log, metrics).catch(async (err: unknown) => {
    await store.close().catch(() => {});
    throw err;
  });
  console.log(`SMASHSEND worker ${w.id} running`);
  await onShutdownSignal(log, async () => {
    await w.stop();
    await store.close();
    const processed = (await metrics.processed.get()).values[0]?.value ?? 0;
    console.log(`SMASHSEND worker ${w.id} stopped: processed ${processed} events`);
  });
  return 0;
}
