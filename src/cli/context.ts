import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from '../config/load-config.js';
import { hashKey } from '../server/key-cache.js';
import { openStore, storeOptionsOf } from '../storage/open-store.js';
import type { ApiKeyRecord, Store } from '../storage/ports.js';

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: { pid: process.pid } });
}

export async function openMigratedStore(config: Config, log?: Logger): Promise<Store> {
  const store = await openStore(config.databaseUrl, {
    ...storeOptionsOf(config),
    onError: (err) => log?.warn({ err }, 'database connection error (the pool reconnects by itself)'),
  });
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}

export function configFromEnv(): Config {
  return loadConfig(process.env);
}

/** Mints a key: 192 random bits, shown once; only its SHA-256 is stored. */
export async function mintKey(store: Store, workspaceName: string, name: string): Promise<{ secret: string; record: ApiKeyRecord }> {
  const ws = await store.keys.ensureWorkspace(workspaceName, Date.now());
  const secret = `sk_live_${randomBytes(24).toString('base64url')}`;
  const record = await store.keys.createKey({ workspaceId: ws.id, name, hash: hashKey(secret), prefix: secret.slice(0, 12), now: Date.now() });
  return { secret, record };
}
