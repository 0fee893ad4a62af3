import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StoreOpenError } from '../ports.js';

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

/**
 * Creates the missing directories of `dir`, one `mkdir` each. `mkdirSync(dir, { recursive: true })`
 * is not used: on a path under /proc it loops forever (Node.js 20 retries ENOENT), which made
 * `DATABASE_URL=sqlite:/proc/nope/x.db` hang the start instead of failing it.
 */
function makeDirectories(dir: string, storePath: string): void {
  const missing: string[] = [];
  let at = dir;
  while (!existsSync(at)) {
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  if (existsSync(at) && !statSync(at).isDirectory()) {
    throw new StoreOpenError(`cannot use ${storePath}: ${at} is a file, not a directory (ENOTDIR)`, storePath, 'ENOTDIR');
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if (codeOf(err) === 'EEXIST' && statSync(d).isDirectory()) continue;
      throw new StoreOpenError(`cannot create the directory ${d} for ${storePath} (${codeOf(err)})`, storePath, codeOf(err), { cause: err });
    }
  }
}

/**
 * Checks, before any thread is started, that the SQLite store at `path` can be opened for
 * writing, and returns its absolute path. Every failure is a StoreOpenError naming the path
 * and the OS error code, so a bad DATABASE_URL stops the start at once with the reason.
 * With `create: false` a store that does not exist yet is refused (read-only commands must
 * not leave an empty store behind when run from the wrong directory).
 */
export function prepareStorePath(path: string, opts: { create: boolean }): { path: string; exists: boolean } {
  if (path === ':memory:') return { path, exists: false };
  const abs = resolve(path);
  const exists = existsSync(abs);
  if (!exists && !opts.create) throw new StoreOpenError(`no store at ${abs}`, abs, 'ENOENT', { reason: 'missing' });
  const dir = dirname(abs);
  makeDirectories(dir, abs);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    // SQLite writes its -wal and -shm files beside the database, so the directory must be writable.
    throw new StoreOpenError(`cannot write in ${dir}, the directory of ${abs} (${codeOf(err)})`, abs, codeOf(err), { cause: err });
  }
  if (exists) {
    if (statSync(abs).isDirectory()) throw new StoreOpenError(`${abs} is a directory, not a SQLite file (EISDIR)`, abs, 'EISDIR');
    try {
      accessSync(abs, constants.R_OK | constants.W_OK);
    } catch (err) {
      throw new StoreOpenError(`cannot write to ${abs} (${codeOf(err)})`, abs, codeOf(err), { cause: err });
    }
  }
  return { path: abs, exists };
}
