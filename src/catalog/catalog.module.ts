/**
 * The event catalogue put together: its stage after the contact merge, its housekeeping
 * (batch keys past their use) and its route, from the store's CatalogStore.
 */
import type { FastifyInstance } from 'fastify';
import type { Guard } from '../http/route-deps.js';
import type { EventStage } from '../processing/stages.js';
import { catalogRoutes } from './catalog.routes.js';
import { CatalogStage } from './catalog.stage.js';
import type { CatalogStore } from './catalog-store.port.js';

/**
 * How long a counted batch's key is kept. The stage runs last, so once it has written, its
 * job only runs again if its completion was lost (a lease expiry, seconds later); a week,
 * like the done jobs themselves (worker.ts), is far beyond that.
 */
export const CATALOG_BATCH_RETENTION_MS = 7 * 86_400_000;
/** Keys one purge statement deletes: a short turn of the SQLite writer thread, repeated until none is left. */
const PURGE_CHUNK = 5_000;

export class CatalogModule {
  constructor(private readonly deps: { catalog: CatalogStore }) {}

  stage(): EventStage {
    return new CatalogStage({ catalog: this.deps.catalog });
  }

  upkeep(): (now: number) => Promise<number> {
    return async (now) => {
      let total = 0;
      for (let n = PURGE_CHUNK; n === PURGE_CHUNK; total += n) n = await this.deps.catalog.purgeBatches(now - CATALOG_BATCH_RETENTION_MS, PURGE_CHUNK);
      return total;
    };
  }

  mount(app: FastifyInstance, ctx: { guard: Guard }) {
    return app.register(catalogRoutes, { catalog: this.deps.catalog, guard: ctx.guard });
  }
}
