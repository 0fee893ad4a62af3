/**
 * EXPLAIN of the segment reads that page (segment-store.postgres.ts), on a populated and
 * analysed schema, in the manner of query-plans.postgres.test.ts: a page of a segment's
 * transitions reads segment_transitions_by_segment (backwards under the LIMIT, or a bitmap of a
 * small segment's rows), never a Seq Scan of transitions or contacts; housekeeping's prune of
 * hits and its list of node keys read segment_hits_by_node, its stalled-build query the partial
 * index of building segments and jobs_by_key, never a Seq Scan. Dropping any of those indexes
 * must make the test fail.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_POSTGRES, createTestDatabase, createTestSchema, type PostgresTestDatabase } from '../../testing/test-database.js';
import { PostgresStore } from './postgres-store.js';
import { HIT_KEYS_SQL, LIST_TRANSITIONS_SQL, PRUNE_HITS_SQL, STALLED_BUILDS_SQL } from './segment-store.postgres.js';

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
const SEGMENTS = 1_000;
const TRANSITIONS = 100_000;
const CONTACTS = 20_000;
const HITS = 100_000;
const NODE_KEYS = 5;
/** One transition in ten is of seg_7 (a big segment among many small ones); seg_8 has about a hundred. */

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Scan Direction'?: string;
  Plans?: PlanNode[];
}

const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];
const own = (n: PlanNode): boolean => n['Index Name'] === 'segment_transitions_by_segment';

async function transitionViolations(c: pg.Client): Promise<string[]> {
  const out: string[] = [];
  for (const params of [['seg_7', Number.MAX_SAFE_INTEGER, 51], ['seg_7', TRANSITIONS / 2, 51], ['seg_8', Number.MAX_SAFE_INTEGER, 51], ['seg_8', TRANSITIONS / 2, 51]]) {
    const res = await c.query({ text: `EXPLAIN (FORMAT JSON) ${LIST_TRANSITIONS_SQL}`, values: params });
    const all = nodes((res.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
    const text = all.map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}`).join(' > ');
    const seek = all.some((n) => n['Index Name'] === 'segment_transitions_by_segment' && n['Node Type'].startsWith('Index') && n['Scan Direction'] === 'Backward');
    // For a segment its statistics show holding a tenth of the rows, PostgreSQL may rather walk
    // the primary key backwards under the LIMIT (about limit × 10 rows, in heap order): bounded,
    // so allowed there. Any other segment must be a seek of its own index.
    const bounded = params[0] === 'seg_7' && all.some((n) => n['Index Name'] === 'segment_transitions_pkey' && n['Scan Direction'] === 'Backward');
    const fewRows = all.some((n) => own(n) && n['Node Type'] === 'Bitmap Index Scan');
    if (!seek && !bounded && !fewRows) {
      out.push(`${params[0]}: not a backward seek of segment_transitions_by_segment: ${text}`);
    }
    // As in query-plans.postgres.test.ts: a bitmap scan (and the sort over it) reads every
    // match before the LIMIT, allowed only on the call's own index, where the statistics say
    // the segment has few rows.
    for (const n of all) {
      if (n['Node Type'] === 'Seq Scan' && (n['Relation Name'] === 'segment_transitions' || n['Relation Name'] === 'contacts')) out.push(`${params[0]}: Seq Scan on ${n['Relation Name']}: ${text}`);
      if (n['Node Type'] === 'Bitmap Index Scan' && !own(n)) out.push(`${params[0]}: bitmap scan of ${n['Index Name']}: ${text}`);
      if (n['Node Type'] === 'Sort' && !nodes(n).some(own)) out.push(`${params[0]}: sorts unbounded rows: ${text}`);
    }
  }
  return out;
}

async function hitViolations(c: pg.Client): Promise<string[]> {
  const out: string[] = [];
  for (const [label, sql, params] of [
    // The steady state: a minute's worth of hits has expired since the last run, far fewer
    // than the batch (a Seq Scan under the LIMIT would then read the whole table).
    ['prune', PRUNE_HITS_SQL, ['k2', T0 + 500, 1000]],
    ['hitKeys', HIT_KEYS_SQL, []],
  ] as [string, string, unknown[]][]) {
    const res = await c.query({ text: `EXPLAIN (FORMAT JSON) ${sql}`, values: params });
    const all = nodes((res.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
    const text = all.map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}`).join(' > ');
    if (!all.some((n) => n['Index Name'] === 'segment_hits_by_node')) out.push(`${label}: does not read segment_hits_by_node: ${text}`);
    for (const n of all) if (n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'segment_hits') out.push(`${label}: Seq Scan: ${text}`);
  }
  return out;
}

async function stalledViolations(c: pg.Client): Promise<string[]> {
  const res = await c.query({ text: `EXPLAIN (FORMAT JSON) ${STALLED_BUILDS_SQL}`, values: [T0 + 1000, 'segments.backfill', 50] });
  const all = nodes((res.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
  const text = all.map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''}`).join(' > ');
  const out: string[] = [];
  for (const index of ['segments_building', 'jobs_by_key']) if (!all.some((n) => n['Index Name'] === index)) out.push(`does not use ${index}: ${text}`);
  for (const n of all) if (n['Node Type'] === 'Seq Scan' && (n['Relation Name'] === 'segments' || n['Relation Name'] === 'jobs')) out.push(`Seq Scan on ${n['Relation Name']}: ${text}`);
  return out;
}

describe.skipIf(SKIP_POSTGRES)('PostgreSQL segment query plans', () => {
  let db: PostgresTestDatabase | undefined;
  let url: string;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    url = (await createTestSchema(db)).url;
    const setup = new PostgresStore(url, { poolMax: 2 });
    await setup.migrate();
    const ws = (await setup.keys.ensureWorkspace('plans', T0)).id;
    await setup.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO contacts (id, workspace_id, email, properties, clocks, status, search_first, search_last, created_at, updated_at)
         SELECT 'c-' || n, $1, 'c' || n || '@plans.test', '{}', '{}', 'SUBSCRIBED', NULL, NULL, $2::bigint + n, $2::bigint
         FROM generate_series(0, $3 - 1) AS n`,
        [ws, T0, CONTACTS],
      );
      await client.query(
        `INSERT INTO segment_transitions (workspace_id, segment_id, contact_id, kind, at)
         SELECT $1, CASE WHEN n % 10 = 0 THEN 'seg_7' ELSE 'seg_' || (n % $4) END, 'c-' || (n % $5), CASE WHEN n % 3 = 0 THEN 'exit' ELSE 'enter' END, $2::bigint + n
         FROM generate_series(0, $3 - 1) AS n`,
        [ws, T0, TRANSITIONS, SEGMENTS, CONTACTS],
      );
      await client.query(
        `INSERT INTO segment_hits (contact_id, node_key, seq, ts) SELECT 'c-' || (n % $3), 'k' || (n % $4), n, $1::bigint + n FROM generate_series(0, $2 - 1) AS n`,
        [T0, HITS, CONTACTS, NODE_KEYS],
      );
      // Many segments, few building; many backfill jobs, done and queued.
      await client.query(
        `INSERT INTO segments (id, workspace_id, name, rule, version, status, created_at, updated_at)
         SELECT 'seg_' || n, $1, 's' || n, '{}', 1, CASE WHEN n % 100 = 0 THEN 'building' ELSE 'ready' END, $2::bigint, $2::bigint FROM generate_series(0, 1999) AS n`,
        [ws, T0],
      );
      await client.query(
        `INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at)
         SELECT 'segments.backfill', 'seg_' || (n % 2000) || ':1:c-' || n, 'null', CASE WHEN n % 50 = 0 THEN 0 ELSE 1 END, $1::bigint, 10, $1::bigint FROM generate_series(0, 19999) AS n`,
        [T0],
      );
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

  it("a page of a segment's transitions is an index seek, newest first, without a sort", async () => {
    expect(await withClient(transitionViolations)).toEqual([]);
  });

  it('fails when segment_transitions_by_segment is dropped', async () => {
    await withClient(async (c) => {
      await c.query('BEGIN');
      await c.query('DROP INDEX segment_transitions_by_segment');
      const found = await transitionViolations(c);
      await c.query('ROLLBACK');
      expect(found.length).toBeGreaterThan(0);
    });
  });

  it("housekeeping's hit statements read segment_hits_by_node", async () => {
    expect(await withClient(hitViolations)).toEqual([]);
  });

  it('fails when segment_hits_by_node is dropped', async () => {
    await withClient(async (c) => {
      await c.query('BEGIN');
      await c.query('DROP INDEX segment_hits_by_node');
      const found = await hitViolations(c);
      await c.query('ROLLBACK');
      expect(found.length).toBeGreaterThan(0);
    });
  });

  it("housekeeping's stalled-build query reads the building segments and each one's backfill key range", async () => {
    expect(await withClient(stalledViolations)).toEqual([]);
  });

  it('fails when segments_building or jobs_by_key is dropped', async () => {
    await withClient(async (c) => {
      for (const index of ['segments_building', 'jobs_by_key']) {
        await c.query('BEGIN');
        await c.query(`DROP INDEX ${index}`);
        const found = await stalledViolations(c);
        await c.query('ROLLBACK');
        expect(found.length, index).toBeGreaterThan(0);
      }
    });
  });
});
