import { randomBytes } from 'node:crypto';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { loadConfig, type Config } from '../config/load-config.js';
import { hashKey } from '../keys/key-cache.js';
import { openStore } from '../storage/open-store.js';
import type { ApiKeyRecord } from '../keys/key-store.port.js';
import type { Store } from '../storage/ports.js';

/**
 * JSON lines (for log shippers) unless LOG_FORMAT=pretty, or `auto` on a TTY: then one
 * human-readable line per entry (pino-pretty, in this thread and synchronous, so nothing is
 * lost at exit; it costs more per line, which only matters for a console someone watches).
 */
export function createLogger(config: Config): Logger {
  const options = { level: config.logLevel, base: { pid: process.pid } };
  const tty = process.stdout.isTTY === true;
  if (config.logFormat === 'pretty' || (config.logFormat === 'auto' && tty)) {
    return pino(options, pretty({ colorize: tty, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino(options);
}

export async function openMigratedStore(config: Config, log?: Logger): Promise<Store> {
  const store = await openStore(config.databaseUrl, {
    sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs,
    poolMax: config.databasePoolMax,
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
