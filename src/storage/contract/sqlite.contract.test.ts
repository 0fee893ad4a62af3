import { createTestDatabase } from '../../testing/test-database.js';
import { SqliteStore } from '../sqlite/sqlite-store.js';
import { runStoreContract } from './store.contract.js';

// A new file in a new temporary directory per test; the directory (WAL and SHM files included) is removed after.
runStoreContract('SqliteStore', async () => {
  const db = await createTestDatabase('sqlite');
  return { store: new SqliteStore(db.path), cleanup: db.drop };
});
