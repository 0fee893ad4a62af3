import { createTestDatabase } from '../../testing/test-database.js';
import { SqliteStore } from '../sqlite/sqlite-store.js';
import { runReadContract } from './reads.contract.js';
import { runStoreContract } from './store.contract.js';

// A new file in a new temporary directory per test; the directory (WAL and SHM files included) is removed after.
runStoreContract('SqliteStore', async () => {
  const db = await createTestDatabase('sqlite');
  return { store: new SqliteStore(db.path), cleanup: db.drop };
});

// The read APIs against a model under several read bounds (reads.contract.ts).
runReadContract('SqliteStore', async (readBounds) => {
  const db = await createTestDatabase('sqlite');
  return { store: new SqliteStore(db.path, { readBounds }), cleanup: db.drop };
});
