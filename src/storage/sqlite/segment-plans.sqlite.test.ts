/**
 * EXPLAIN QUERY PLAN of the segment reads that page or skip (segment-store.sqlite.ts), on a
 * populated and analysed store, in the manner of query-plans.sqlite.test.ts: a page of a
 * segment's transitions is a seek of segment_transitions_by_segment read backwards from the
 * cursor (no scan, no sort), plus a primary-key lookup of each row's contact; housekeeping's
 * prune of hits is a range of segment_hits_by_node and its list of node keys a seek per key;
 * its stalled-build query reads the partial index of building segments and a key range of
 * jobs_by_key per segment. Dropping any of those indexes must make the test fail.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type SqliteTestDatabase } from '../../testing/test-database.js';
import { CONTACT_TRANSITIONS_SQL, HIT_KEYS_SQL, LIST_TRANSITIONS_SQL, PRUNE_HITS_SQL, STALLED_BUILDS_SQL } from './segment-store.sqlite.js';
import { SqliteStore } from './sqlite-store.js';

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);
const SEGMENTS = 1_000;
const TRANSITIONS = 100_000;
const CONTACTS = 2_000;
const HITS = 50_000;
const NODE_KEYS = 5;
/** One transition in ten is of seg_7 (a big segment among many small ones); seg_8 has about a hundred. */

function plan(db: Database.Database, sql: string, params: unknown[]): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((d) => d.detail);
}

/** What is wrong with the transitions page's plan (empty: an index seek). */
function transitionViolations(db: Database.Database): string[] {
  const out: string[] = [];
  for (const params of [['seg_7', Number.MAX_SAFE_INTEGER, 51], ['seg_7', TRANSITIONS / 2, 51], ['seg_8', Number.MAX_SAFE_INTEGER, 51]]) {
    const details = plan(db, LIST_TRANSITIONS_SQL, params);
    const all = details.join(' | ');
    if (!details.some((d) => d.startsWith('SEARCH t USING INDEX segment_transitions_by_segment (segment_id=? AND id<?)'))) out.push(`${params[0]}: not a seek of segment_transitions_by_segment: ${all}`);
    if (!details.some((d) => /^SEARCH c USING INDEX sqlite_autoindex_contacts_\d \(id=\?\)/.test(d))) out.push(`contact not looked up by id: ${all}`);
    for (const d of details) if (d.startsWith('SCAN')) out.push(`scan: ${d}`);
    if (all.includes('TEMP B-TREE')) out.push(`sorts: ${all}`);
  }
  return out;
}

/** What is wrong with the plans of housekeeping's hit statements (empty: seeks of segment_hits_by_node). */
function hitViolations(db: Database.Database): string[] {
  const out: string[] = [];
  const prune = [...plan(db, PRUNE_HITS_SQL, ['k2', T0 + HITS / 2, 1000]), ...plan(db, PRUNE_HITS_SQL, ['k2', T0 + 500, 1000])];
  if (!prune.some((d) => /^SEARCH segment_hits USING (COVERING )?INDEX segment_hits_by_node \(node_key=\? AND ts<\?\)/.test(d))) out.push(`prune: not a range of segment_hits_by_node: ${prune.join(' | ')}`);
  const keys = plan(db, HIT_KEYS_SQL, []);
  // Each step of the recursion is MIN(node_key) of a range: a seek of the index, never a scan of the table.
  if (!keys.some((d) => /^SEARCH segment_hits USING COVERING INDEX segment_hits_by_node \(node_key>\?\)/.test(d))) out.push(`hitKeys: not a seek per key: ${keys.join(' | ')}`);
  for (const d of [...prune, ...keys]) if (/^SCAN segment_hits\b(?! USING COVERING INDEX segment_hits_by_node)/.test(d)) out.push(`scan: ${d}`);
  return out;
}

/** What is wrong with the plan of housekeeping's stalled-build query (empty: index seeks only). */
function stalledViolations(db: Database.Database): string[] {
  const details = plan(db, STALLED_BUILDS_SQL, [T0 + 1000, 'segments.backfill', 50]);
  const all = details.join(' | ');
  const out: string[] = [];
  if (!details.some((d) => d.startsWith('SEARCH s USING INDEX segments_building'))) out.push(`segments: not the partial index of builds: ${all}`);
  if (!details.some((d) => /^SEARCH j USING INDEX jobs_by_key \(kind=\? AND key>\? AND key<\?\)/.test(d))) out.push(`jobs: not a key range of jobs_by_key: ${all}`);
  for (const d of details) if (d.startsWith('SCAN')) out.push(`scan: ${d}`);
  return out;
}

describe('SQLite segment query plans', () => {
  let testDb: SqliteTestDatabase | undefined;
  let path: string;

  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite');
    path = testDb.path;
    const setup = new SqliteStore(path);
    await setup.migrate();
    const ws = (await setup.keys.ensureWorkspace('plans', T0)).id;
    await setup.close();
    const db = new Database(path);
    db.transaction(() => {
      const c = db.prepare(`INSERT INTO contacts (id, workspace_id, email, properties, clocks, status, created_at, updated_at) VALUES (?, ?, ?, '{}', '{}', 'SUBSCRIBED', ?, ?)`);
      for (let n = 0; n < CONTACTS; n++) c.run(`c-${n}`, ws, `c${n}@plans.test`, T0 + n, T0);
      const t = db.prepare('INSERT INTO segment_transitions (workspace_id, segment_id, contact_id, kind, at) VALUES (?, ?, ?, ?, ?)');
      // Many segments, few building; many backfill jobs, done and queued.
      const sg = db.prepare(`INSERT INTO segments (id, workspace_id, name, rule, version, status, created_at, updated_at) VALUES (?, ?, ?, '{}', 1, ?, ?, ?)`);
      for (let n = 0; n < 2000; n++) sg.run(`seg_${n}`, ws, `s${n}`, n % 100 === 0 ? 'building' : 'ready', T0, T0);
      const j = db.prepare(`INSERT INTO jobs (kind, key, payload, status, run_at, max_attempts, created_at) VALUES ('segments.backfill', ?, 'null', ?, ?, 10, ?)`);
      for (let n = 0; n < 20_000; n++) j.run(`seg_${n % 2000}:1:c-${n}`, n % 50 === 0 ? 0 : 1, T0, T0);
      const h = db.prepare('INSERT INTO segment_hits (contact_id, node_key, seq, ts) VALUES (?, ?, ?, ?)');
      for (let n = 0; n < HITS; n++) h.run(`c-${n % CONTACTS}`, `k${n % NODE_KEYS}`, n, T0 + n);
      for (let n = 0; n < TRANSITIONS; n++) t.run(ws, n % 10 === 0 ? 'seg_7' : `seg_${n % SEGMENTS}`, `c-${n % CONTACTS}`, n % 3 === 0 ? 'exit' : 'enter', T0 + n);
    })();
    db.exec('ANALYZE');
    db.close();
  });

  afterAll(async () => {
    await testDb?.drop();
  });

  it("a page of a segment's transitions is an index seek, newest first, without a sort", () => {
    const db = new Database(path, { readonly: true });
    expect(transitionViolations(db)).toEqual([]);
    db.close();
  });

  it('fails when segment_transitions_by_segment is dropped', () => {
    const db = new Database(path);
    db.exec('BEGIN; DROP INDEX segment_transitions_by_segment');
    expect(transitionViolations(db).length).toBeGreaterThan(0);
    db.exec('ROLLBACK');
    db.close();
  });

  it("a contact's timeline transitions are a backwards read of segment_transitions_by_contact, without a sort", () => {
    const db = new Database(path, { readonly: true });
    const details = plan(db, CONTACT_TRANSITIONS_SQL, ['c-7', 'ws', 100]);
    const all = details.join(' | ');
    expect(details.some((d) => d.startsWith('SEARCH t USING INDEX segment_transitions_by_contact (contact_id=?)')), all).toBe(true);
    expect(details.some((d) => d.startsWith('SCAN')), all).toBe(false);
    expect(all).not.toContain('TEMP B-TREE');
    db.close();
  });

  it("housekeeping's hit statements are seeks of segment_hits_by_node", () => {
    const db = new Database(path, { readonly: true });
    expect(hitViolations(db)).toEqual([]);
    db.close();
  });

  it('fails when segment_hits_by_node is dropped', () => {
    const db = new Database(path);
    db.exec('BEGIN; DROP INDEX segment_hits_by_node');
    expect(hitViolations(db).length).toBeGreaterThan(0);
    db.exec('ROLLBACK');
    db.close();
  });

  it("housekeeping's stalled-build query seeks the building segments and each one's backfill key range", () => {
    const db = new Database(path, { readonly: true });
    expect(stalledViolations(db)).toEqual([]);
    db.close();
  });

  it('fails when segments_building or jobs_by_key is dropped', () => {
    const db = new Database(path);
    for (const index of ['segments_building', 'jobs_by_key']) {
      db.exec(`BEGIN; DROP INDEX ${index}`);
      expect(stalledViolations(db).length, index).toBeGreaterThan(0);
      db.exec('ROLLBACK');
    }
    db.close();
  });
});
