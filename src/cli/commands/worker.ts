import Fastify from 'fastify';
import { Metrics } from '../../http/metrics.js';
import { opsRoutes } from '../../http/plugins/ops.routes.js';
import { StoreStatus } from '../../http/store-status.js';
import { ProcessingMetrics } from '../../processing/processing-metrics.js';
import { parseCommandArgs } from '../args.js';
import { JOB_KINDS, composeWorker } from '../compose.js';
import { configFromEnv, createLogger, openCliStore } from '../context.js';
import { listenFailure } from '../listen-failure.js';
import { onShutdownSignal } from '../shutdown.js';

export const WORKER_HELP = `Usage: smashsend worker

Runs the background worker alone on the store of DATABASE_URL: claims queued events,
creates or updates their contacts, marks them processed, and runs due jobs (housekeeping,
and the jobs of every module). Run as many as you like on PostgreSQL.
On SQLite it may run beside the one \`smashsend serve\` of the file (e.g. \`serve --no-worker\`):
it appends no events, so it takes no ingest lock; its writes queue on SQLite's write lock.
Serves GET /health and GET /metrics (Prometheus) on HOST:WORKER_PORT (default 3001).`;

export async function worker(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(WORKER_HELP);
    return 0;
  }
  const config = configFromEnv();
  const log = createLogger(config);
  const store = await openCliStore(config, 'write', log);
  const metrics = new Metrics();
  const processing = new ProcessingMetrics(metrics.registry, { queue: store.queue, jobs: store.jobs, kinds: JOB_KINDS });
  // Its own small HTTP server, so a standalone worker's processing is observable too.
  const app = Fastify({ logger: false });
  await app.register(opsRoutes, { ping: () => store.ping(), status: new StoreStatus(log), registry: metrics.registry });
  let address: string;
  try {
    address = await app.listen({ port: config.worker.port, host: config.host });
  } catch (err) {
    await store.close().catch(() => {});
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new Error(`port ${config.worker.port} is in use on ${config.host} (EADDRINUSE); set WORKER_PORT=… (one per worker on a host, or 0 for any free port)`);
    throw listenFailure(err, config.host, config.worker.port);
  }
  // On SQLite only `serve` appends events (one appender per file): held Segment events are attached by its worker.
  const w = composeWorker({ config, store, log, observer: processing, appendsEvents: store.capabilities.multiProcess });
  w.start();
  // Handlers before the line that says it runs (see serve.ts).
  const stopped = onShutdownSignal(log, async () => {
    await w.stop();
    await app.close();
    await store.close();
    console.log(`SMASHSEND worker ${w.id} stopped: processed ${await processing.processedCount()} events`);
  });
  console.log(`SMASHSEND worker ${w.id} running (health: ${address}/health, metrics: ${address}/metrics)`);
  await stopped;
  return 0;
}
