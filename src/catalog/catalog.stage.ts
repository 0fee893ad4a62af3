/**
 * The event catalogue's stage after the contact merge (processing/stages.ts): it aggregates
 * the processed events of one merge commit in memory (catalog-batch.ts) and writes the
 * result with one CatalogStore.record per batch, keyed by the batch's pipeline job, so a job
 * that runs again (a worker killed after the write, a lost completion) counts nothing twice.
 * Only processed events reach a stage: duplicates and rejected events never do.
 *
 * Property types only ever grow, so this process remembers the types it knows are stored at
 * each path (what record() answered) and leaves out of the next write the paths that would
 * add nothing: once a workspace's event shapes are known, a batch writes one counter row
 * per event name it holds, and no property row. The memory is a subset of what is stored
 * (never more), so another process writing the same catalogue cannot make it wrong; it is
 * dropped whole past MAX_REMEMBERED paths.
 */
import type { StoredEvent } from '../events-read/event-reader.port.js';
import type { JobContext } from '../processing/job-kind.js';
import type { EventStage } from '../processing/stages.js';
import { aggregateBatch } from './catalog-batch.js';
import type { CatalogLimits, CatalogPropertyDelta, CatalogStore } from './catalog-store.port.js';

export const CATALOG_STAGE = 'catalog';

/**
 * Event names per workspace and property paths per event name that the catalogue keeps. A
 * real tracking plan has tens to a few hundred names with tens of properties each; the caps
 * only stop a client that puts ids in names or keys from growing the catalogue (and the one
 * read of GET /v1/catalog/events, at most 500 × 200 rows) without bound.
 */
export const CATALOG_LIMITS: CatalogLimits = { maxEventNames: 500, maxPropertiesPerEvent: 200 };

const MAX_REMEMBERED = 100_000;
const SEP = '\u0000';

export class CatalogStage implements EventStage {
  readonly name = CATALOG_STAGE;
  /** (workspace, event, path) → types known to be stored; 0: not catalogued (over a limit). */
  private readonly known = new Map<string, number>();

  constructor(private readonly deps: { catalog: CatalogStore; limits?: CatalogLimits }) {}

  async handle(events: StoredEvent[], ctx: JobContext, batch: { key: string }): Promise<void> {
    const agg = aggregateBatch(events);
    if (agg.events.length === 0) return;
    const properties: CatalogPropertyDelta[] = [];
    const keys: string[] = [];
    for (const p of agg.properties) {
      const k = p.workspaceId + SEP + p.event + SEP + p.path;
      const stored = this.known.get(k);
      if (stored === 0 || (stored !== undefined && (stored | p.types) === stored)) continue;
      properties.push(p);
      keys.push(k);
    }
    const r = await this.deps.catalog.record({ batchKey: batch.key, events: agg.events, properties, limits: this.deps.limits ?? CATALOG_LIMITS, now: ctx.now });
    if (!r.applied) return;
    if (this.known.size + keys.length > MAX_REMEMBERED) this.known.clear();
    keys.forEach((k, i) => this.known.set(k, r.stored[i] ?? 0));
  }
}
