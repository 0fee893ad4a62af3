import { existsSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { loadConfig, type Config } from '../config/load-config.js';
import { mintKeyIn } from '../keys/mint-key.js';
import { openStore, storeLocation, storeOptionsOf } from '../storage/open-store.js';
import type { ApiKeyRecord } from '../keys/key-store.port.js';
import { StoreLockedError, StoreOpenError, type Store } from '../storage/ports.js';

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

/**
 * How a command uses the store: `read` never creates one (`keys list`, `keys revoke`: run from
 * the wrong directory they would otherwise report on an empty store they just made); `write`
 * creates it if missing; `serve` also takes the ingest lock (one server per SQLite file).
 */
export type StoreUse = 'read' | 'write' | 'serve';

/** A store failure at start, as one line with the cause and what to do about it. */
function startFailure(err: unknown): unknown {
  if (err instanceof StoreOpenError) {
    if (err.reason === 'missing') {
      return new Error(`${err.message}: run from the project directory or set DATABASE_URL`, { cause: err });
    }
    return new Error(`${err.message}; set DATABASE_URL=sqlite:PATH to a file in a writable directory`, { cause: err });
  }
  if (err instanceof StoreLockedError) {
    return new Error(
      `${err.message}; stop it first, or set DATABASE_URL to another file (two servers appending to one SQLite file would break dedup)`,
      { cause: err },
    );
  }
  return err;
}

/**
 * Opens and migrates the store of DATABASE_URL for a command, and says on stderr which store
 * it is (stdout stays the command's output: `keys create`'s last line is the key).
 */
export async function openCliStore(
  config: Config,
  use: StoreUse,
  log?: Logger,
  onMigrated?: (r: { applied: string[] }) => void,
): Promise<Store> {
  const { kind, location } = storeLocation(config.databaseUrl);
  const existed = kind === 'sqlite' && existsSync(location);
  let store: Store;
  try {
    store = await openStore(config.databaseUrl, {
      ...storeOptionsOf(config),
      create: use !== 'read',
      exclusive: use === 'serve',
      onError: (err) => log?.warn({ err }, 'database connection error (the pool reconnects by itself)'),
    });
  } catch (err) {
    throw startFailure(err);
  }
  try {
    const migrated = await store.migrate(); // not inside `onMigrated?.(…)`: that skips the call when absent
    onMigrated?.(migrated);
  } catch (err) {
    await store.close().catch(() => {});
    throw startFailure(err);
  }
  const what = kind === 'sqlite' ? `SQLite${existed ? '' : ', new'}` : 'PostgreSQL';
  process.stderr.write(`Store: ${location} (${what})\n`);
  return store;
}

export function configFromEnv(): Config {
  return loadConfig(process.env);
}

/**
 * Mints a key: 192 random bits, shown once; only its SHA-256 is stored. A publishable key
 * (`pk_live_…`) may only send events (SPEC.md); its kind is its prefix.
 */
export async function mintKey(
  store: Store,
  workspaceName: string,
  name: string,
  opts: { publishable?: boolean; test?: boolean } = {},
): Promise<{ secret: string; record: ApiKeyRecord; workspaceCreated: boolean }> {
  const ws = await store.keys.ensureWorkspace(workspaceName, Date.now());
  const { secret, record } = await mintKeyIn(store.keys, ws.id, name, Date.now(), opts);
  return { secret, record, workspaceCreated: ws.created };
}
