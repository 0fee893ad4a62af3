/**
 * EXPLAIN of the catalogue's statements (catalog-store.postgres.ts) on a populated and
 * analysed schema: the list reads each primary key by range, record()'s lookups probe the
 * primary keys, its bounded counts read key ranges, the purge of batch keys reads
 * catalog_batches_by_time; never a Seq Scan of a catalogue table. Dropping that index must
 * make the test fail.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_POSTGRES, createTestDatabase, createTestSchema, type PostgresTestDatabase } from '../../testing/test-database.js';
import { COUNT_NAMES_SQL, COUNT_PATHS_SQL, FIND_NAMES_SQL, FIND_PATHS_SQL, LIST_SQL, PURGE_BATCHES_SQL } from './catalog-store.postgres.js';
import { PostgresStore } from './postgres-store.js';

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

const STATEMENTS: [string, string, unknown[], string][] = [
  ['list', LIST_SQL, ['ws-1', 500, 200], 'catalog_properties_pkey'],
  ['count names', COUNT_NAMES_SQL, [['ws-1', 'ws-2'], 500], 'catalog_events_pkey'],
  ['count paths', COUNT_PATHS_SQL, [['ws-1'], ['e7'], 200], 'catalog_properties_pkey'],
  ['find names', FIND_NAMES_SQL, [['ws-1', 'ws-1'], ['e7', 'e8']], 'catalog_events_pkey'],
  ['find paths', FIND_PATHS_SQL, [['ws-1', 'ws-1'], ['e7', 'e8'], ['p1', 'p2']], 'catalog_properties_pkey'],
  ['purge batches', PURGE_BATCHES_SQL, [T0 + 10, 5000], 'catalog_batches_by_time'],
];

async function violations(c: pg.Client): Promise<string[]> {
  const out: string[] = [];
  for (const [label, sql, params, index] of STATEMENTS) {
    const res = await c.query({ text: `EXPLAIN (FORMAT JSON) ${sql}`, values: params });
    const all = nodes((res.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
    const text = all.map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}`).join(' > ');
    if (!all.some((n) => n['Index Name'] === index)) out.push(`${label}: does not use ${index}: ${text}`);
    for (const n of all) if (n['Node Type'] === 'Seq Scan' && n['Relation Name']?.startsWith('catalog_')) out.push(`${label}: Seq Scan on ${n['Relation Name']}: ${text}`);
  }
  return out;
}

describe.skipIf(SKIP_POSTGRES)('PostgreSQL catalogue query plans', () => {
  let db: PostgresTestDatabase | undefined;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    url = (await createTestSchema(db)).url;
    const setup = new PostgresStore(url, { poolMax: 2 });
    await setup.migrate();
    await setup.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`INSERT INTO catalog_events (workspace_id, name, first_seen, last_seen, count)
        SELECT 'ws-' || w, 'e' || n, $1::bigint, $1::bigint, 1 FROM generate_series(0, 19) w, generate_series(0, 199) n`, [T0]);
      await client.query(`INSERT INTO catalog_properties (workspace_id, event, path, types)
        SELECT 'ws-' || w, 'e' || n, 'p' || k, 1 FROM generate_series(0, 19) w, generate_series(0, 199) n, generate_series(0, 19) k`);
      await client.query(`INSERT INTO catalog_batches (batch_key, applied_at) SELECT 'merge:' || n, $1::bigint + n FROM generate_series(0, 49999) n`, [T0]);
      await client.query('ANALYZE');
    } finally {
      await client.end();
    }
  });

  afterAll(async () => {
    await db?.drop();
  });

  async function withClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  it('every statement reads its primary key or index, never a Seq Scan', async () => {
    expect(await withClient(violations)).toEqual([]);
  });

  it('fails when catalog_batches_by_time is dropped', async () => {
    await withClient(async (c) => {
      await c.query('BEGIN');
      await c.query('DROP INDEX catalog_batches_by_time');
      const found = await violations(c);
      await c.query('ROLLBACK');
      expect(found.length).toBeGreaterThan(0);
    });
  });
});
