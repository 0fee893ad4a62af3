/**
 * The event catalogue on PostgreSQL. record() is one transaction: the batch key first (a
 * second run of the same batch stops there, or waits on the first's uncommitted key and then
 * stops), then a transaction-scoped advisory lock per workspace of the batch, taken in one
 * order, so that workers adding to one workspace's catalogue at once take turns: the limits
 * are exact and no two transactions lock the catalogue's rows in different orders. A batch
 * is a handful of statements (about 1-3 ms), so the turns are short.
 */
import type { CatalogEntry, CatalogRecordResult, CatalogStore } from '../../catalog/catalog-store.port.js';
import { eventsWithNewPaths, nameKey, pathKey, planCatalog, workspacesWithNewNames } from '../shared/catalog-plan.js';
import { hasNul, type PgDatabase } from './database.postgres.js';

/** The workspace's names with their paths, by name: the names a bounded range of the primary key, the paths one per name (LATERAL, bounded). */
export const LIST_SQL = `SELECT e.name, e.first_seen, e.last_seen, e.count, e.properties_truncated, p.path, p.types
  FROM (SELECT * FROM catalog_events WHERE workspace_id = $1 ORDER BY name LIMIT $2) e
  LEFT JOIN LATERAL (SELECT path, types FROM catalog_properties WHERE workspace_id = $1 AND event = e.name ORDER BY path LIMIT $3) p ON true
  ORDER BY e.name, p.path`;
/** Names catalogued per workspace, counted up to the limit. */
export const COUNT_NAMES_SQL = `SELECT w.ws, (SELECT COUNT(*) FROM (SELECT 1 FROM catalog_events WHERE workspace_id = w.ws LIMIT $2) x)::int AS n
  FROM unnest($1::text[]) AS w(ws)`;
export const COUNT_PATHS_SQL = `SELECT k.ws, k.ev, (SELECT COUNT(*) FROM (SELECT 1 FROM catalog_properties WHERE workspace_id = k.ws AND event = k.ev LIMIT $3) x)::int AS n
  FROM unnest($1::text[], $2::text[]) AS k(ws, ev)`;
/** record()'s lookups of the batch's names and paths: one primary-key probe each. */
export const FIND_NAMES_SQL = 'SELECT workspace_id, name FROM catalog_events WHERE (workspace_id, name) IN (SELECT * FROM unnest($1::text[], $2::text[]))';
export const FIND_PATHS_SQL = `SELECT workspace_id, event, path, types FROM catalog_properties
  WHERE (workspace_id, event, path) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`;
export const PURGE_BATCHES_SQL = `DELETE FROM catalog_batches WHERE batch_key IN
  (SELECT batch_key FROM catalog_batches WHERE applied_at < $1 ORDER BY applied_at LIMIT $2)`;

interface ListRow {
  name: string;
  first_seen: string | number;
  last_seen: string | number;
  count: string | number;
  properties_truncated: boolean;
  path: string | null;
  types: number | null;
}

export class PostgresCatalogStore implements CatalogStore {
  constructor(private readonly db: PgDatabase) {}

  async record(input: Parameters<CatalogStore['record']>[0]): Promise<CatalogRecordResult> {
    const { limits } = input;
    return this.db.transaction(async (tx): Promise<CatalogRecordResult> => {
      const marked = await tx.query('INSERT INTO catalog_batches (batch_key, applied_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [input.batchKey, input.now], 'catalog_mark');
      if (marked.rowCount === 0) return { applied: false, stored: [] };
      const wss = [...new Set(input.events.map((e) => e.workspaceId))];
      await tx.query(
        "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended('catalog' || chr(1) || ws, 0) AS k FROM unnest($1::text[]) AS ws ORDER BY 1) s",
        [wss],
        'catalog_lock',
      );
      const found = await tx.query<{ workspace_id: string; name: string }>(
        FIND_NAMES_SQL,
        [input.events.map((e) => e.workspaceId), input.events.map((e) => e.name)],
        'catalog_find_names',
      );
      const names = new Set(found.rows.map((r) => nameKey(r.workspace_id, r.name)));
      const nameCounts = new Map<string, number>();
      const newWs = workspacesWithNewNames(input.events, names);
      if (newWs.length) {
        for (const r of (await tx.query<{ ws: string; n: number }>(COUNT_NAMES_SQL, [newWs, limits.maxEventNames], 'catalog_count_names')).rows) nameCounts.set(r.ws, r.n);
      }
      const paths = new Map<string, number>();
      if (input.properties.length) {
        const p = input.properties;
        const rows = await tx.query<{ workspace_id: string; event: string; path: string; types: number }>(
          FIND_PATHS_SQL,
          [p.map((x) => x.workspaceId), p.map((x) => x.event), p.map((x) => x.path)],
          'catalog_find_paths',
        );
        for (const r of rows.rows) paths.set(pathKey(r.workspace_id, r.event, r.path), r.types);
      }
      const pathCounts = new Map<string, number>();
      const newPaths = eventsWithNewPaths(input.properties, paths);
      if (newPaths.length) {
        const rows = await tx.query<{ ws: string; ev: string; n: number }>(
          COUNT_PATHS_SQL,
          [newPaths.map((e) => e.workspaceId), newPaths.map((e) => e.name), limits.maxPropertiesPerEvent],
          'catalog_count_paths',
        );
        for (const r of rows.rows) pathCounts.set(nameKey(r.ws, r.ev), r.n);
      }
      const plan = planCatalog(input, { names, nameCounts, paths, pathCounts });
      if (plan.events.length) {
        const e = plan.events;
        await tx.query(
          `INSERT INTO catalog_events (workspace_id, name, first_seen, last_seen, count)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
           ON CONFLICT (workspace_id, name) DO UPDATE SET count = catalog_events.count + excluded.count,
             first_seen = LEAST(catalog_events.first_seen, excluded.first_seen), last_seen = GREATEST(catalog_events.last_seen, excluded.last_seen)`,
          [e.map((x) => x.workspaceId), e.map((x) => x.name), e.map((x) => x.firstSeen), e.map((x) => x.lastSeen), e.map((x) => x.count)],
          'catalog_upsert_events',
        );
      }
      if (plan.properties.length) {
        const p = plan.properties;
        await tx.query(
          `INSERT INTO catalog_properties (workspace_id, event, path, types)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[])
           ON CONFLICT (workspace_id, event, path) DO UPDATE SET types = catalog_properties.types | excluded.types`,
          [p.map((x) => x.workspaceId), p.map((x) => x.event), p.map((x) => x.path), p.map((x) => x.types)],
          'catalog_upsert_paths',
        );
      }
      if (plan.truncated.length) {
        const t = plan.truncated;
        await tx.query(
          `UPDATE catalog_events SET properties_truncated = true
           WHERE (workspace_id, name) IN (SELECT * FROM unnest($1::text[], $2::text[])) AND NOT properties_truncated`,
          [t.map((x) => x.workspaceId), t.map((x) => x.name)],
          'catalog_truncated',
        );
      }
      return { applied: true, stored: plan.stored };
    });
  }

  async list(workspaceId: string, bounds: { maxEvents: number; maxProperties: number }): Promise<CatalogEntry[]> {
    if (hasNul(workspaceId)) return [];
    const { rows } = await this.db.query<ListRow>(LIST_SQL, [workspaceId, bounds.maxEvents, bounds.maxProperties]);
    const out: CatalogEntry[] = [];
    for (const r of rows) {
      let last = out[out.length - 1];
      if (!last || last.name !== r.name) {
        last = { name: r.name, firstSeen: Number(r.first_seen), lastSeen: Number(r.last_seen), count: Number(r.count), propertiesTruncated: r.properties_truncated, properties: [] };
        out.push(last);
      }
      if (r.path !== null) last.properties.push({ path: r.path, types: Number(r.types) });
    }
    return out;
  }

  async purgeBatches(before: number, limit: number): Promise<number> {
    return (await this.db.query(PURGE_BATCHES_SQL, [before, limit])).rowCount;
  }
}
