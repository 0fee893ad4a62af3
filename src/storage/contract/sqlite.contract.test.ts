import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../sqlite/sqlite-store.js';
import { runJobQueueContract } from './job-queue.contract.js';
import { runPropertyTypesContract } from './property-types.contract.js';
import { runStoreContract } from './store.contract.js';

// A new file in a new temporary directory per test; the directory (WAL and SHM files included) is removed after.
const openSqlite = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'smashsend-contract-'));
  return {
    store: new SqliteStore(join(dir, 'store.db')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
};
runStoreContract('SqliteStore', openSqlite);
runPropertyTypesContract('SqliteStore', openSqlite);
runJobQueueContract('SqliteStore', openSqlite);
