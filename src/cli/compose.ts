/**
 * The one place the server is put together: store → module services → their route plugins
 * → HTTP. `serve` and the HTTP tests both build through here, so they run the same wiring.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/load-config.js';
import { contactsRoutes } from '../contacts/contacts.routes.js';
import { eventsReadRoutes } from '../events-read/events-read.routes.js';
import { buildServer, type BuiltServer, type ModuleMount } from '../http/build-server.js';
import { Metrics } from '../http/metrics.js';
import { StoreStatus } from '../http/store-status.js';
import { opsRoutes } from '../http/plugins/ops.routes.js';
import { IngestService } from '../ingest/ingest.service.js';
import { PendingLimit } from '../ingest/pending-limit.js';
import { ingestRoutes } from '../ingest/smashsend/events.routes.js';
import type { Store } from '../storage/ports.js';

export interface ComposeDeps {
  config: Config;
  store: Store;
  log: Logger;
  clock?: () => number;
  metrics?: Metrics;
}

export async function composeServer(deps: ComposeDeps): Promise<BuiltServer> {
  const { config, store, log } = deps;
  const clock = deps.clock ?? Date.now;
  const metrics = deps.metrics ?? new Metrics({ queue: store.queue, clock });
  const storeStatus = new StoreStatus(log);
  const pending = new PendingLimit(store.events, config.maxPendingEvents, metrics.pendingGauge(), config.debugAppendDelayMs, storeStatus);
  const ingest = new IngestService(pending, config.dedupWindowMs, metrics.ingestCounters());
  const modules: ModuleMount[] = [
    (app, ctx) => app.register(ingestRoutes, { ingest, guard: ctx.guard, clock: ctx.clock }),
    (app, ctx) => app.register(eventsReadRoutes, { events: store.events, guard: ctx.guard, clock: ctx.clock }),
    (app, ctx) => app.register(contactsRoutes, { contacts: store.contacts, guard: ctx.guard, clock: ctx.clock }),
    (app) => app.register(opsRoutes, { ping: () => store.ping(), status: storeStatus, registry: metrics.registry }),
  ];
  return buildServer({ config, log, clock, metrics, keys: store.keys, modules, storeStatus });
}
