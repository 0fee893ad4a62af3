import type { Logger } from 'pino';
import type { Config } from '../../config/load-config.js';
import type { Worker } from '../../processing/worker.js';
import type { Store } from '../../storage/ports.js';
import { parseCommandArgs } from '../args.js';
import { composeServer, composeWorker, type ComposedServer } from '../compose.js';
import { configFromEnv, createLogger, mintKey, openCliStore } from '../context.js';
import { listenFailure } from '../listen-failure.js';
import { onShutdownSignal } from '../shutdown.js';
import { mintSetupLink } from '../../users/setup-link.js';

export const SERVE_HELP = `Usage: smashsend serve [--no-worker]

Serves the Events API (PORT, HOST) on the store of DATABASE_URL. Unless --no-worker is given,
the background worker runs in the same process (this is what \`npm start\` runs).
On a store that never had an API key, creates workspace "default" and one key once the server
is listening, and prints it once.

On SQLite, one server per database file: a second \`serve\` on a file that a running server
holds refuses to start (its lock is <file>.lock). \`smashsend worker\` may run beside it.
A failed start (port in use, bad HOST, unusable store) exits 1 with one line saying why.`;

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

export async function serve(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs(argv, { 'no-worker': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  const config = configFromEnv();
  const log = createLogger(config);
  const store = await openCliStore(config, 'serve', log);
  const { server, worker, url, firstKey, activeKeys, setupLink } = await start(store, config, log, !values['no-worker']);

  // One write, so a reader of stdout sees the whole banner (the key included) at once.
  const everywhere = WILDCARD_HOSTS.has(config.host) ? ` (HOST ${config.host || '(empty)'}: every interface)` : '';
  const banner = [
    `SMASHSEND Events API`,
    `  Listening on ${url}${everywhere}`,
    `  SDK baseUrl: ${url}   new SmashSend(key, { baseUrl: '${url}' })`,
    `  Endpoints under ${url}/v1; health: ${url}/health, metrics: ${url}/metrics`,
  ];
  if (firstKey) {
    banner.push(
      `  Created workspace "default" with an API key. It is shown once, store it now:`,
      `  ${firstKey}`,
      `  Try: curl -X POST ${url}/v1/events -H "Authorization: Bearer ${firstKey}" -H "Content-Type: application/json" -d '{"event":"user.signup","identify":{"email":"jane@example.com"}}'`,
    );
  } else {
    banner.push(
      `  API keys: ${activeKeys} active (secrets are shown only when created). New key: npx smashsend keys create --workspace default --name NAME`,
    );
  }
  if (setupLink) {
    banner.push(`  Dashboard: ${url}/  First sign-in, to set the first user's password (one-time link, valid 24 h):`, `  ${setupLink}`);
  } else {
    banner.push(`  Dashboard: ${url}/  (new users: npx smashsend users create --email E --workspace W)`);
  }
  banner.push(worker ? '  Background worker: running in this process' : '  Background worker: off (run `smashsend worker`)');
  // HTTP drains for at most 2 × SHUTDOWN_DRAIN_MS (build-server.ts); the rest gets 10 s more
  // before the force-exit (which exits 1).
  const forceAfterMs = 2 * config.shutdownDrainMs + 10_000;
  // Handlers go in before the banner: a supervisor (or a test) that signals as soon as it reads
  // "Listening" must find them, or the default action kills the server mid-write.
  const stopped = onShutdownSignal(log, async () => {
    await server.close(); // stop accepting, finish in-flight requests (their appends are committed), cut slow ones
    log.info('http server closed');
    await worker?.stop(); // finish the batch in hand
    await store.close(); // flush pending writes, close connections
    log.info('store closed');
  }, forceAfterMs);
  process.stdout.write(`${banner.join('\n')}\n`);
  await stopped;
  return 0;
}

/** Builds the server, listens, starts the worker, mints the first key; on failure releases it all. */
async function start(store: Store, config: Config, log: Logger, withWorker: boolean) {
  let server: ComposedServer | null = null;
  let worker: Worker | null = null;
  try {
    server = await composeServer({ config, store, log });
    let url: string;
    try {
      url = await server.app.listen({ port: config.port, host: config.host });
    } catch (err) {
      throw listenFailure(err, config.host, config.port);
    }
    worker = withWorker ? composeWorker({ config, store, log, observer: server.processing, ingestActive: server.ingestActive, metrics: server.metrics }) : null;
    worker?.start();
    // Minted only now that the server listens: a start that fails (port in use, say) must not
    // leave a key that was printed nowhere, and the next start would not print one.
    let firstKey: string | null = null;
    let activeKeys = 0;
    if ((await store.keys.listKeys()).length === 0) {
      firstKey = (await mintKey(store, 'default', 'first key')).secret;
    } else {
      activeKeys = await store.keys.countActiveKeys();
    }
    const setupLink = await mintSetupLink(store.users, url, Date.now());
    return { server, worker, url, firstKey, activeKeys, setupLink };
  } catch (err) {
    await stopAll(server, worker, store);
    throw err;
  }
}

/** After a failed start: release what was opened, so the process can exit at once. */
async function stopAll(server: ComposedServer | null, worker: Worker | null, store: Store): Promise<void> {
  await server?.close().catch(() => {});
  await worker?.stop().catch(() => {});
  await store.close().catch(() => {});
}
