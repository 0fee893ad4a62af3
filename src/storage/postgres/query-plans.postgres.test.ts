/**
 * EXPLAIN of every read statement the PostgreSQL store issues (query-plans.contract.ts), with
 * the statement's own parameters, on a populated and analysed schema, with a short and with a
 * deep queue. Fails on a Seq Scan of a table, on a bitmap scan or a sort of rows that neither
 * a bounded id list nor the call's own index delivered (both read every match before the
 * LIMIT), and when a call does not use the index it stands on; dropping any of those indexes
 * must make it fail.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTACTS,
  EVENTS,
  PROPERTY_NAMES,
  QUEUED,
  READ_INDEXES,
  T0,
  exerciseReads,
  expectedIndexes,
  readRecorder,
  type CapturedRead,
} from '../contract/query-plans.contract.js';
import { PostgresStore } from './postgres-store.js';
import { SKIP_POSTGRES, createTestDatabase, createTestSchema, type PostgresTestDatabase } from '../../testing/test-database.js';

const TABLES = new Set(['events', 'contacts', 'contact_property_names', 'dedup']);
/** Index scans that read a bounded list of keys (ids from a LIMITed subquery or a page's hits). */
const BOUNDED = new Set(['events_pkey', 'contacts_pkey', 'events_queue']);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(n: PlanNode): PlanNode[] {
  return [n, ...(n.Plans ?? []).flatMap(nodes)];
}

async function violations(client: pg.Client, reads: CapturedRead[], expected: Record<string, string[]>): Promise<string[]> {
  const out: string[] = [];
  const used = new Map<string, Set<string>>();
  for (const r of reads) {
    let plan: PlanNode;
    try {
      const res = await client.query({ text: `EXPLAIN (FORMAT JSON) ${r.sql}`, values: r.params });
      plan = (res.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan;
    } catch (err) {
      out.push(`${r.label}: ${(err as Error).message}`);
      continue;
    }
    const all = nodes(plan);
    const set = used.get(r.label) ?? new Set<string>();
    used.set(r.label, set);
    for (const n of all) if (n['Index Name']) set.add(n['Index Name']);
    const where = `\n  in ${r.sql.replace(/\s+/g, ' ')}`;
    for (const n of all) {
      if (n['Node Type'] === 'Seq Scan' && TABLES.has(n['Relation Name'] ?? '')) out.push(`${r.label}: Seq Scan on ${n['Relation Name']}${where}`);
      // A bitmap scan (and the sort after it) reads every row matching the index condition
      // before the LIMIT. The planner picks one only where its statistics say the filter's
      // index matches fewer rows than the LIMIT needs, so that is allowed for the call's own
      // indexes; on any other index it means the filter is not what the index seeks.
      const own = (expected[r.label] ?? []).flatMap((i) => i.split('|'));
      const ok = (m: PlanNode) => BOUNDED.has(m['Index Name'] ?? '') || own.includes(m['Index Name'] ?? '');
      if (n['Node Type'] === 'Bitmap Index Scan' && !ok(n)) out.push(`${r.label}: bitmap scan of ${n['Index Name']}${where}`);
      if (n['Node Type'] === 'Sort' && !nodes(n).some(ok)) out.push(`${r.label}: sorts unbounded rows${where}`);
    }
  }
  for (const [label, indexes] of Object.entries(expected)) {
    const set = used.get(label);
    if (!set) out.push(`${label}: issued no statement`);
    else for (const index of indexes) if (!index.split('|').some((i) => set.has(i))) out.push(`${label}: does not use ${index} (uses ${[...set].join(', ')})`);
  }
  return out;
}

describe.skipIf(SKIP_POSTGRES)('PostgreSQL read query plans', () => {
  let db: PostgresTestDatabase | undefined;
  let url: string;
  const runs: { deep: boolean; reads: CapturedRead[] }[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    url = (await createTestSchema(db)).url;
    const setup = new PostgresStore(url, { poolMax: 2 });
    await setup.migrate();
    const ws = (await setup.keys.ensureWorkspace('plans', T0)).id;
    const other = (await setup.keys.ensureWorkspace('plans-other', T0)).id;
    await setup.close();

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // The same rows as the SQLite test (query-plans.contract.ts: eventRow), in bulk.
      for (const w of [ws, other]) {
        await client.query(
          `INSERT INTO events (workspace_id, message_id, event, email, ts, received_at, status, contact_id)
           SELECT $1, 'm' || n, 'e' || (n % 20), 'u' || (n % 500) || '@plans.test', $2::bigint + n * 1000, $2::bigint + n * 1000,
                  CASE WHEN n >= $3 - $4 THEN 0 WHEN n % 50 = 0 THEN 2 ELSE 1 END,
                  CASE WHEN n >= $3 - $4 THEN NULL ELSE 'c-' || (n % 500) END
           FROM generate_series(0, $3 - 1) AS n`,
          [w, T0, EVENTS, QUEUED],
        );
      }
      await client.query(
        `INSERT INTO contacts (id, workspace_id, email, properties, clocks, status, search_first, search_last, created_at, updated_at)
         SELECT '00000000-0000-4000-8000-' || lpad(n::text, 12, '0'), $1, 'c' || n || '@plans.test',
                json_build_object('email', 'c' || n || '@plans.test', 'firstName', 'N' || (n % 7))::text, '{}',
                CASE WHEN n % 10 = 0 THEN 'UNSUBSCRIBED' ELSE 'SUBSCRIBED' END, 'n' || (n % 7), NULL, $2::bigint + n / 3, $2::bigint
         FROM generate_series(0, $3 - 1) AS n`,
        [ws, T0, CONTACTS],
      );
      await client.query(`INSERT INTO contact_property_names (workspace_id, name, type) SELECT $1, 'p' || n, 'string' FROM generate_series(0, $2 - 1) AS n`, [
        ws,
        PROPERTY_NAMES,
      ]);
      await client.query('ANALYZE');
    } finally {
      await client.end();
    }

    for (const deep of [false, true]) {
      const rec = readRecorder();
      const store = new PostgresStore(url, { poolMax: 2, readBounds: { scanBudget: 1_000, queueScan: deep ? 0 : 1_000 }, trace: rec.trace });
      await exerciseReads(store, ws, rec.label);
      await store.close();
      runs.push({ deep, reads: rec.reads });
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

  for (const deep of [false, true]) {
    it(`every read is an index seek bounded by its limit (${deep ? 'deep' : 'short'} queue)`, async () => {
      const run = runs.find((r) => r.deep === deep)!;
      expect(await withClient((c) => violations(c, run.reads, expectedIndexes('postgres', deep)))).toEqual([]);
    });
  }

  it('fails when any index the reads stand on is dropped', async () => {
    await withClient(async (c) => {
      for (const index of READ_INDEXES) {
        await c.query('BEGIN');
        await c.query(`DROP INDEX ${index}`);
        const found: string[] = [];
        for (const r of runs) found.push(...(await violations(c, r.reads, expectedIndexes('postgres', r.deep))));
        await c.query('ROLLBACK');
        expect(found.length, index).toBeGreaterThan(0);
      }
    });
  });
});
