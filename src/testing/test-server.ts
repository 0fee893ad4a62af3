/**
 * An in-process server on a real store (a fresh SQLite file, or a fresh PostgreSQL database
 * when TEST_BACKEND=postgres), listening on a real port. Tests talk HTTP to it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../config/load-config.js';
import { mintKey } from '../cli/context.js';
import { composeServer, composeWorker, type SegmentLinks } from '../cli/compose.js';
import type { BuiltServer } from '../http/build-server.js';
import { openStore, storeOptionsOf } from '../storage/open-store.js';
import type { Store } from '../storage/ports.js';
import type { Worker } from '../processing/worker.js';
import { createTestDatabase, REDIS_URL, USES_REDIS } from './test-database.js';

export interface TestServer {
  url: string;
  key: string;
  store: Store;
  server: BuiltServer;
  config: Config;
  worker: Worker | null;
  databaseUrl: string;
  createKey(workspace: string): Promise<string>;
  /** Runs worker cycles until the queue is empty (deterministic; no background timing). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  clock?: () => number;
  /** Start the background worker loop (default false: tests call drain()). */
  backgroundWorker?: boolean;
  /** Rewrites the fresh database's URL before the server uses it (e.g. to go through a proxy). */
  databaseUrl?: (url: string) => string;
  /** Run on this existing database instead of a fresh one (the caller created it and drops it): a restart. */
  database?: { url: string };
  /** Listen on this port (default: any free one). */
  port?: number;
  /** What other modules plug into segments (transition listeners, referrers). */
  segmentLinks?: SegmentLinks;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const db = opts.database ? { url: opts.database.url, drop: async () => {} } : await createTestDatabase();
  const config = loadConfig({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    WORKER_POLL_MS: '20',
    ...(USES_REDIS ? { REDIS_URL } : {}),
    ...opts.env,
    DATABASE_URL: opts.databaseUrl ? opts.databaseUrl(db.url) : db.url,
    PORT: '0',
  });
  const log = pino({ level: config.logLevel });
  const store = await openStore(config.databaseUrl, storeOptionsOf(config));
  await store.migrate();
  const clock = opts.clock ?? Date.now;
  const { secret } = await mintKey(store, 'default', 'test');
  const links = opts.segmentLinks ? { segmentLinks: opts.segmentLinks } : {};
  const server = await composeServer({ config, store, log, clock, ...links });
  const address = await server.app.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  const worker = composeWorker({ config, store, log, clock, observer: server.processing, metrics: server.metrics, ...links });
  if (opts.backgroundWorker) worker.start();
  return {
    url: address,
    key: secret,
    store,
    server,
    config,
    worker,
    databaseUrl: db.url,
    async createKey(workspace) {
      return (await mintKey(store, workspace, 'test')).secret;
    },
    async drain() {
      for (let i = 0; i < 1000; i++) {
        if ((await worker.runOnce()) === 0) return;
      }
      throw new Error('queue did not drain');
    },
    async close() {
      await worker.stop();
      await server.close();
      await store.close();
      await db.drop();
    },
  };
}

export { tmpdir, mkdtempSync, rmSync, join };
