import { afterAll, beforeAll, describe } from 'vitest';
import { PostgresStore } from '../postgres/postgres-store.js';
import { SKIP_POSTGRES, createTestDatabase, createTestSchema, type PostgresTestDatabase } from '../../testing/test-database.js';
import { runReadContract } from './reads.contract.js';
import { runStoreContract } from './store.contract.js';

// One database for this file (smashsend_test_<random>, dropped after), one fresh schema per
// test. An unreachable server fails the suite in beforeAll; only SMASHSEND_SKIP_POSTGRES=1 skips it.
describe.skipIf(SKIP_POSTGRES)('PostgreSQL', () => {
  let db: PostgresTestDatabase | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });

  afterAll(async () => {
    await db?.drop();
  });

  runStoreContract('PostgresStore', async () => {
    if (!db) throw new Error('the test database was not created');
    const schema = await createTestSchema(db);
    return { store: new PostgresStore(schema.url, { poolMax: 4 }), cleanup: schema.drop };
  });

  runReadContract('PostgresStore', async (readBounds) => {
    if (!db) throw new Error('the test database was not created');
    const schema = await createTestSchema(db);
    return { store: new PostgresStore(schema.url, { poolMax: 4, readBounds }), cleanup: schema.drop };
  });
});
