import { parseArgs } from 'node:util';
import { composeServer } from '../compose.js';
import { startWorker } from '../../processing/start-worker.js';
import { configFromEnv, createLogger, mintKey, openMigratedStore } from '../context.js';
import { onShutdownSignal } from '../shutdown.js';

export const SERVE_HELP = `Usage: smashsend serve [--no-worker]

Serves the Events API (PORT, HOST) on the store of DATABASE_URL. Unless --no-worker is given,
the background worker runs in the same process (this is what \`npm start\` runs).
On a store with no API key yet, creates workspace "default" and one key, and prints it once.`;

export async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'no-worker': { type: 'boolean', default: false }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  const config = configFromEnv();
  const log = createLogger(config);
  const store = await openMigratedStore(config, log);
  let firstKey: string | null = null;
  if ((await store.keys.listKeys()).length === 0) {
    firstKey = (await mintKey(store, 'default', 'first key')).secret;
  }
  const server = await composeServer({ config, store, log });
  const address = await server.app.listen({ port: config.port, host: config.host });
  const worker = values['no-worker'] ? null : await startWorker(store, config, log, server.metrics);

  const url = address.replace('[::1]', 'localhost');
  // One write, so a reader of stdout sees the whole banner (the key included) at once.
  const banner = [`SMASHSEND Events API`, `  Listening on ${url}`, `  API base URL: ${url}/v1  (health: ${url}/health, metrics: ${url}/metrics)`];
  if (firstKey) {
    banner.push(
      `  Created workspace "default" with an API key. It is shown once, store it now:`,
      `  ${firstKey}`,
      `  Try: curl -X POST ${url}/v1/events -H "Authorization: Bearer ${firstKey}" -H "Content-Type: application/json" -d '{"event":"user.signup","identify":{"email":"jane@example.com"}}'`,
    );
  }
  banner.push(worker ? '  Background worker: running in this process' : '  Background worker: off (run `smashsend worker`)');
  process.stdout.write(`${banner.join('\n')}\n`);

  // HTTP drains for at most 2 × SHUTDOWN_DRAIN_MS (build-server.ts); the rest gets 10 s more
  // before the force-exit (which exits 1).
  const forceAfterMs = 2 * config.shutdownDrainMs + 10_000;
  await onShutdownSignal(log, async () => {
    await server.close(); // stop accepting, finish in-flight requests (their appends are committed), cut slow ones
    log.info('http server closed');
    await worker?.stop(); // finish the batch in hand
    await store.close(); // flush pending writes, stop the writer thread's worker, close connections
    log.info('store closed');
  }, forceAfterMs);
  return 0;
}
