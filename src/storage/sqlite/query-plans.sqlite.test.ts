/**
 * EXPLAIN QUERY PLAN of every read statement the SQLite store issues (query-plans.contract.ts),
 * on a populated and analysed store, with a short and with a deep queue. Fails on a SCAN of a
 * table (the queue index, bounded by LIMIT, excepted), on a sort of rows no bounded list
 * delivered, and when a call does not use the index it stands on; dropping any of those
 * indexes must make it fail.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTACTS,
  EVENTS,
  PROPERTY_NAMES,
  QUEUED,
  READ_INDEXES,
  T0,
  eventRow,
  exerciseReads,
  expectedIndexes,
  readRecorder,
  type CapturedRead,
} from '../contract/query-plans.contract.js';
import type { ReadBounds } from '../read-bounds.js';
import { createTestDatabase, type SqliteTestDatabase } from '../../testing/test-database.js';
import { SqliteStore } from './sqlite-store.js';

const TABLES = /^SCAN (events|contacts|contact_property_names|dedup|dedup_collisions)\b/;

/** Violations of the plan rules by `reads`, explained on `db`; `expected` names the indexes per label. */
function violations(db: Database.Database, reads: CapturedRead[], expected: Record<string, string[]>): string[] {
  const out: string[] = [];
  const used = new Map<string, string>();
  for (const r of reads) {
    let details: string[];
    try {
      details = (db.prepare(`EXPLAIN QUERY PLAN ${r.sql}`).all(...r.params) as { detail: string }[]).map((d) => d.detail);
    } catch (err) {
      out.push(`${r.label}: ${(err as Error).message}`);
      continue;
    }
    const plan = details.join(' | ');
    used.set(r.label, `${used.get(r.label) ?? ''} || ${plan}`);
    for (const d of details) {
      // The queue index is read newest first under a LIMIT (read-bounds.ts: queueScan).
      if (TABLES.test(d) && d !== 'SCAN events USING COVERING INDEX events_queue') out.push(`${r.label}: ${d}\n  in ${r.sql}`);
    }
    // Sorting is bounded only over the queue's bounded id list.
    if (plan.includes('USE TEMP B-TREE') && !plan.includes('events_queue')) out.push(`${r.label}: sorts unbounded rows: ${plan}\n  in ${r.sql}`);
  }
  for (const [label, indexes] of Object.entries(expected)) {
    const plans = used.get(label);
    if (plans === undefined) out.push(`${label}: issued no statement`);
    else for (const index of indexes) if (!index.split('|').some((i) => plans.includes(i))) out.push(`${label}: does not use ${index}: ${plans}`);
  }
  return out;
}

describe('SQLite read query plans', () => {
  let path: string;
  const runs: { deep: boolean; reads: CapturedRead[] }[] = [];

  // One populated store for the file's tests, removed after them.
  let testDb: SqliteTestDatabase | undefined;
  afterAll(async () => {
    await testDb?.drop();
  });

  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite');
    path = testDb.path;
    const setup = new SqliteStore(path);
    await setup.migrate();
    const ws = (await setup.keys.ensureWorkspace('plans', T0)).id;
    const other = (await setup.keys.ensureWorkspace('plans-other', T0)).id;
    await setup.close();

    const db = new Database(path);
    db.transaction(() => {
      const ev = db.prepare('INSERT INTO events (workspace_id, message_id, event, email, ts, received_at, status, contact_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      for (const w of [ws, other]) {
        for (let n = 0; n < EVENTS; n++) {
          const e = eventRow(n);
          const queued = n >= EVENTS - QUEUED;
          ev.run(w, e.messageId, e.event, e.email, e.ts, e.ts, queued ? 0 : n % 50 === 0 ? 2 : 1, queued ? null : `c-${n % 500}`);
        }
      }
      const c = db.prepare(`INSERT INTO contacts (id, workspace_id, email, properties, clocks, status, created_at, updated_at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?)`);
      for (let n = 0; n < CONTACTS; n++) {
        const status = n % 10 === 0 ? 'UNSUBSCRIBED' : 'SUBSCRIBED';
        const email = `c${n}@plans.test`;
        c.run(`00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, ws, email, JSON.stringify({ email, status, firstName: `N${n % 7}` }), status, T0 + Math.floor(n / 3), T0);
      }
      const p = db.prepare(`INSERT INTO contact_property_names (workspace_id, name, type) VALUES (?, ?, 'string')`);
      for (let n = 0; n < PROPERTY_NAMES; n++) p.run(ws, `p${n}`);
    })();
    db.exec('ANALYZE');
    db.close();

    for (const deep of [false, true]) {
      const rec = readRecorder();
      const bounds: ReadBounds = { scanBudget: 1_000, queueScan: deep ? 0 : 1_000 };
      const store = new SqliteStore(path, { readBounds: bounds, trace: rec.trace });
      await store.migrate();
      await exerciseReads(store, ws, rec.label);
      await store.close();
      runs.push({ deep, reads: rec.reads });
    }
  });

  for (const deep of [false, true]) {
    it(`every read is an index seek bounded by its limit (${deep ? 'deep' : 'short'} queue)`, () => {
      const db = new Database(path, { readonly: true });
      const run = runs.find((r) => r.deep === deep)!;
      expect(violations(db, run.reads, expectedIndexes('sqlite', deep))).toEqual([]);
      db.close();
    });
  }

  it('fails when any index the reads stand on is dropped', () => {
    const db = new Database(path);
    for (const index of READ_INDEXES) {
      db.exec(`BEGIN; DROP INDEX ${index}`);
      const found = runs.flatMap((r) => violations(db, r.reads, expectedIndexes('sqlite', r.deep)));
      db.exec('ROLLBACK');
      expect(found.length, index).toBeGreaterThan(0);
    }
    db.close();
  });
});
