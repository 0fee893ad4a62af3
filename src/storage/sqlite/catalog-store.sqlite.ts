/**
 * The event catalogue on the embedded store. record() runs on the writer thread (by message,
 * batched with the worker's other writes: its transaction is then a savepoint of their
 * commit); one connection, synchronous statements, so its reads and writes never race and
 * the limits are exact. Reads run on the read connection.
 */
import type Database from 'better-sqlite3';
import type { CatalogEntry, CatalogRecordResult, CatalogStore } from '../../catalog/catalog-store.port.js';
import { eventsWithNewPaths, nameKey, pathKey, planCatalog, workspacesWithNewNames } from '../shared/catalog-plan.js';
import { Statements } from './statements.js';

/** The workspace's names, by name (the primary key's order): bounded by the limit. Exported for the plan test. */
export const LIST_EVENTS_SQL = `SELECT name, first_seen, last_seen, count, properties_truncated FROM catalog_events
  WHERE workspace_id = ? ORDER BY name LIMIT ?`;
/** The paths of the names listed: a range of the primary key per name, at most the limit each. */
export const LIST_PROPERTIES_SQL = `SELECT path, types FROM catalog_properties WHERE workspace_id = ? AND event = ? ORDER BY path LIMIT ?`;
/** Names catalogued in a workspace, counted up to the limit (a bounded range of the primary key). */
export const COUNT_NAMES_SQL = 'SELECT COUNT(*) FROM (SELECT 1 FROM catalog_events WHERE workspace_id = ? LIMIT ?)';
export const COUNT_PATHS_SQL = 'SELECT COUNT(*) FROM (SELECT 1 FROM catalog_properties WHERE workspace_id = ? AND event = ? LIMIT ?)';
export const PURGE_BATCHES_SQL = `DELETE FROM catalog_batches WHERE batch_key IN
  (SELECT batch_key FROM catalog_batches WHERE applied_at < ? ORDER BY applied_at LIMIT ?)`;
/** record()'s point lookups: a name, a path (primary keys). */
export const FIND_NAME_SQL = 'SELECT 1 FROM catalog_events WHERE workspace_id = ? AND name = ?';
export const FIND_PATH_SQL = 'SELECT types FROM catalog_properties WHERE workspace_id = ? AND event = ? AND path = ?';

interface EventRow {
  name: string;
  first_seen: number;
  last_seen: number;
  count: number;
  properties_truncated: number;
}

export class SqliteCatalogStore implements CatalogStore {
  private readonly s: Statements;

  constructor(private readonly db: Database.Database) {
    this.s = new Statements(db);
  }

  async record(input: Parameters<CatalogStore['record']>[0]): Promise<CatalogRecordResult> {
    const { limits } = input;
    const s = this.s;
    return this.db.transaction((): CatalogRecordResult => {
      if (s.prepare('INSERT INTO catalog_batches (batch_key, applied_at) VALUES (?, ?) ON CONFLICT DO NOTHING').run(input.batchKey, input.now).changes === 0) {
        return { applied: false, stored: [] };
      }
      const findName = s.prepare(FIND_NAME_SQL).pluck();
      const names = new Set<string>();
      for (const e of input.events) if (findName.get(e.workspaceId, e.name) !== undefined) names.add(nameKey(e.workspaceId, e.name));
      const nameCounts = new Map<string, number>();
      for (const ws of workspacesWithNewNames(input.events, names)) {
        nameCounts.set(ws, s.prepare(COUNT_NAMES_SQL).pluck().get(ws, limits.maxEventNames) as number);
      }
      const findPath = s.prepare(FIND_PATH_SQL).pluck();
      const paths = new Map<string, number>();
      for (const p of input.properties) {
        const t = findPath.get(p.workspaceId, p.event, p.path) as number | undefined;
        if (t !== undefined) paths.set(pathKey(p.workspaceId, p.event, p.path), t);
      }
      const pathCounts = new Map<string, number>();
      for (const e of eventsWithNewPaths(input.properties, paths)) {
        pathCounts.set(nameKey(e.workspaceId, e.name), s.prepare(COUNT_PATHS_SQL).pluck().get(e.workspaceId, e.name, limits.maxPropertiesPerEvent) as number);
      }
      const plan = planCatalog(input, { names, nameCounts, paths, pathCounts });
      const upsertEvent = s.prepare(
        `INSERT INTO catalog_events (workspace_id, name, first_seen, last_seen, count) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (workspace_id, name) DO UPDATE SET count = count + excluded.count,
           first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen)`,
      );
      for (const e of plan.events) upsertEvent.run(e.workspaceId, e.name, e.firstSeen, e.lastSeen, e.count);
      const upsertPath = s.prepare(
        `INSERT INTO catalog_properties (workspace_id, event, path, types) VALUES (?, ?, ?, ?)
         ON CONFLICT (workspace_id, event, path) DO UPDATE SET types = types | excluded.types`,
      );
      for (const p of plan.properties) upsertPath.run(p.workspaceId, p.event, p.path, p.types);
      const truncate = s.prepare('UPDATE catalog_events SET properties_truncated = 1 WHERE workspace_id = ? AND name = ? AND properties_truncated = 0');
      for (const t of plan.truncated) truncate.run(t.workspaceId, t.name);
      return { applied: true, stored: plan.stored };
    })();
  }

  async list(workspaceId: string, bounds: { maxEvents: number; maxProperties: number }): Promise<CatalogEntry[]> {
    // One snapshot: a name and its paths as of the same commit.
    return this.db.transaction(() => {
      const rows = this.s.prepare(LIST_EVENTS_SQL).all(workspaceId, bounds.maxEvents) as EventRow[];
      const props = this.s.prepare(LIST_PROPERTIES_SQL);
      return rows.map((r) => ({
        name: r.name,
        firstSeen: r.first_seen,
        lastSeen: r.last_seen,
        count: r.count,
        propertiesTruncated: r.properties_truncated === 1,
        properties: props.all(workspaceId, r.name, bounds.maxProperties) as { path: string; types: number }[],
      }));
    })();
  }

  async purgeBatches(before: number, limit: number): Promise<number> {
    return this.s.prepare(PURGE_BATCHES_SQL).run(before, limit).changes;
  }
}
