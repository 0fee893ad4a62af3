/**
 * EXPLAIN QUERY PLAN of the catalogue's statements (catalog-store.sqlite.ts) on a populated
 * and analysed store: the list is a range of each primary key in its order (no scan, no
 * sort), record()'s lookups and bounded counts are seeks of the primary keys, the purge of
 * batch keys a range of catalog_batches_by_time. Dropping that index must make it fail.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type SqliteTestDatabase } from '../../testing/test-database.js';
import { COUNT_NAMES_SQL, COUNT_PATHS_SQL, FIND_NAME_SQL, FIND_PATH_SQL, LIST_EVENTS_SQL, LIST_PROPERTIES_SQL, PURGE_BATCHES_SQL } from './catalog-store.sqlite.js';
import { SqliteStore } from './sqlite-store.js';

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);

function plan(db: Database.Database, sql: string, params: unknown[]): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((d) => d.detail).join(' | ');
}

function violations(db: Database.Database): string[] {
  const out: string[] = [];
  const expect = (label: string, sql: string, params: unknown[], seek: RegExp) => {
    const p = plan(db, sql, params);
    if (!seek.test(p)) out.push(`${label}: not ${seek}: ${p}`);
    if (/\bSCAN\b/.test(p.replace(/SCAN \(subquery-\d+\)|SCAN [a-z]+ USING COVERING INDEX|SCAN CONSTANT ROW/g, ''))) out.push(`${label}: scans: ${p}`);
    if (p.includes('TEMP B-TREE')) out.push(`${label}: sorts: ${p}`);
  };
  expect('list events', LIST_EVENTS_SQL, ['ws-1', 500], /SEARCH catalog_events USING PRIMARY KEY \(workspace_id=\?\)/);
  expect('list properties', LIST_PROPERTIES_SQL, ['ws-1', 'e7', 200], /SEARCH catalog_properties USING PRIMARY KEY \(workspace_id=\? AND event=\?\)/);
  expect('count names', COUNT_NAMES_SQL, ['ws-1', 500], /SEARCH catalog_events USING PRIMARY KEY \(workspace_id=\?\)/);
  expect('count paths', COUNT_PATHS_SQL, ['ws-1', 'e7', 200], /SEARCH catalog_properties USING PRIMARY KEY \(workspace_id=\? AND event=\?\)/);
  expect('find name', FIND_NAME_SQL, ['ws-1', 'e7'], /SEARCH catalog_events USING PRIMARY KEY \(workspace_id=\? AND name=\?\)/);
  expect('find path', FIND_PATH_SQL, ['ws-1', 'e7', 'p3'], /SEARCH catalog_properties USING PRIMARY KEY \(workspace_id=\? AND event=\? AND path=\?\)/);
  expect('purge batches', PURGE_BATCHES_SQL, [T0 + 10, 10_000], /SEARCH catalog_batches USING (COVERING )?INDEX catalog_batches_by_time \(applied_at<\?\)/);
  return out;
}

describe('SQLite catalogue query plans', () => {
  let testDb: SqliteTestDatabase | undefined;

  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite');
    const setup = new SqliteStore(testDb.path);
    await setup.migrate();
    await setup.close();
    const db = new Database(testDb.path);
    db.transaction(() => {
      const e = db.prepare('INSERT INTO catalog_events (workspace_id, name, first_seen, last_seen, count) VALUES (?, ?, ?, ?, 1)');
      const p = db.prepare('INSERT INTO catalog_properties (workspace_id, event, path, types) VALUES (?, ?, ?, 1)');
      for (let w = 0; w < 20; w++) {
        for (let n = 0; n < 200; n++) {
          e.run(`ws-${w}`, `e${n}`, T0, T0);
          for (let k = 0; k < 20; k++) p.run(`ws-${w}`, `e${n}`, `p${k}`);
        }
      }
      const b = db.prepare('INSERT INTO catalog_batches (batch_key, applied_at) VALUES (?, ?)');
      for (let n = 0; n < 50_000; n++) b.run(`merge:${n}`, T0 + n);
    })();
    db.exec('ANALYZE');
    db.close();
  });

  afterAll(async () => {
    await testDb?.drop();
  });

  it('every statement is a seek of its primary key or index, without a sort', () => {
    const db = new Database(testDb!.path, { readonly: true });
    expect(violations(db)).toEqual([]);
    db.close();
  });

  it('fails when catalog_batches_by_time is dropped', () => {
    const db = new Database(testDb!.path);
    db.exec('BEGIN; DROP INDEX catalog_batches_by_time');
    expect(violations(db).length).toBeGreaterThan(0);
    db.exec('ROLLBACK');
    db.close();
  });
});
