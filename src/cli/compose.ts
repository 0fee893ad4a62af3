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
import { notImplementedRoutes } from '../http/plugins/not-implemented.routes.js';
import { mountOpenApi } from '../http/plugins/openapi.js';
import { StoreStatus } from '../http/store-status.js';
import { opsRoutes } from '../http/plugins/ops.routes.js';
import { startTrafficSummary } from '../http/traffic-summary.js';
import { IngestService } from '../ingest/ingest.service.js';
import { PendingLimit } from '../ingest/pending-limit.js';
import { ingestRoutes } from '../ingest/smashsend/events.routes.js';
import { attachHeldKind } from '../processing/attach-held.job.js';
import { ATTACH_HELD_KIND } from '../ingest/segment/identity-store.port.js';
import { SegmentIngest } from '../ingest/segment/segment-ingest.service.js';
import { segmentRoutes } from '../ingest/segment/segment.routes.js';
import { apiKeysRoutes } from '../keys/api-keys.routes.js';
import { APPLY_EVENTS_KIND } from '../contacts/apply-events.job.js';
import { HOUSEKEEPING_KIND } from '../processing/housekeeping.js';
import type { JobKind, ProcessingObserver } from '../processing/job-kind.js';
import { PIPELINE_KIND, type EventStage } from '../processing/stages.js';
import { ProcessingMetrics } from '../processing/processing-metrics.js';
import { Worker } from '../processing/worker.js';
import type { Store } from '../storage/ports.js';
import { unsubscribeRoutes } from '../workflows/unsubscribe.routes.js';
import { workspaceSecretsRoutes } from '../workflows/workspace-secrets.routes.js';
import { workflowsRoutes } from '../workflows/workflows.routes.js';
import { replayRoutes } from '../workflows/replay.routes.js';
import { DELIVERY_KIND, STEP_KIND, WorkflowRunner } from '../workflows/runner.js';
import { WorkflowTriggers } from '../workflows/trigger.stage.js';
import type { EngineDeps } from '../workflows/engine-context.js';
import { OutboxReader } from '../workflows/transports/email.js';
import { mailTransportFromConfig, messageIdDomainFromConfig, outboxTransportFromConfig, webhookSenderFromConfig } from '../workflows/transports/from-config.js';
import { WorkspaceModes } from '../keys/workspace-modes.js';
import type { SegmentMembership } from '../segments/segment-links.js';
import { SEGMENT_JOB_KINDS } from '../segments/segment-jobs.js';
import type { SegmentReferrer, SegmentTransitionListener } from '../segments/segment-links.js';
import { SegmentsModule } from '../segments/segments.module.js';
import { workflowSegmentReferrer } from '../workflows/segment-referrer.js';
import type { DashboardRoute } from '../dashboard/dashboard-api.routes.js';
import { mountDashboard } from '../dashboard/dashboard.plugin.js';
import { ActivityRecorder } from '../activity/activity-recorder.js';
import { statsRoutes } from '../activity/stats.routes.js';
import { CatalogModule } from '../catalog/catalog.module.js';
import { DryRunService } from '../dry-run/dry-run.service.js';
import { TrackingPlanModule } from '../tracking-plan/tracking-plan.module.js';

export interface ComposeDeps {
  config: Config;
  store: Store;
  log: Logger;
  clock?: () => number;
  metrics?: Metrics;
  /** Links from other modules to segments (the workflows module's referrers; see segment-links.ts). */
  segmentLinks?: SegmentLinks;
}

/** What other modules plug into the segments module (the coordinator wires workflows here). */
export interface SegmentLinks {
  listeners?: SegmentTransitionListener[];
  referrers?: SegmentReferrer[];
}

export function segmentsModule(store: Store, links: SegmentLinks = {}): SegmentsModule {
  return new SegmentsModule({ store, ...(links.listeners ? { listeners: links.listeners } : {}), ...(links.referrers ? { referrers: links.referrers } : {}) });
}

export interface ComposedServer extends BuiltServer {
  /** Processing figures on the same registry (the gauges read the store at scrape time). */
  processing: ProcessingMetrics;
  /** True while this server is appending events (the worker beside it then keeps its claims small). */
  ingestActive: () => boolean;
  /** Every route of the dashboard's JSON API (/dashboard/api/…), with whether it answers without a session. */
  dashboardRoutes: readonly DashboardRoute[];
  /** Writes the buffered ingest activity now (it is written every 250 ms anyway). */
  flushActivity: () => Promise<void>;
}

/** Every job kind a worker of this build runs (for metrics initialised at 0 per kind). */
export const JOB_KINDS = [APPLY_EVENTS_KIND, HOUSEKEEPING_KIND, PIPELINE_KIND, ATTACH_HELD_KIND, STEP_KIND, DELIVERY_KIND, ...SEGMENT_JOB_KINDS];

/**
 * What each module adds to background processing: its job kinds, and its stages after the
 * contact merge, in the order they run for each processed event (processing/stages.ts).
 * Each module's kinds must also be listed in JOB_KINDS.
 */
export function moduleProcessing(deps: { config: Config; store: Store; log: Logger; segmentLinks?: SegmentLinks }): {
  kinds: JobKind[];
  stages: EventStage[];
  /** The modules' housekeeping tasks (processing/housekeeping.ts `upkeep`). */
  upkeep: ((now: number) => Promise<unknown>)[];
  /** Closes what the modules opened (the SMTP pool, the webhook agent) once the worker stops. */
  close: () => Promise<void>;
} {
  const { segments, engine, triggers } = linkedModules(deps);
  const catalog = new CatalogModule({ catalog: deps.store.catalog });
  // Segment membership first: the workflows stage after it sees the memberships this event
  // made. The catalogue last: once it has counted a batch, the job ends (catalog.module.ts).
  return {
    kinds: [...segments.kinds(), ...new WorkflowRunner(engine).kinds()],
    stages: [segments.stage(), triggers, catalog.stage()],
    upkeep: [segments.upkeep(), catalog.upkeep()],
    close: async () => {
      await engine.mail.close();
      if (engine.testMail !== engine.mail) await engine.testMail.close();
      await engine.sender.close();
    },
  };
}

/**
 * The segments and workflows modules wired to each other: workflows listen to segment
 * transitions (`{"segment", "on"}` triggers) and read membership (`inSegment`); segments ask
 * workflows who references a segment before deleting it. `extra` adds more (tests).
 */
export function linkedModules(deps: { config: Config; store: Store; log: Logger; segmentLinks?: SegmentLinks }): {
  segments: SegmentsModule;
  engine: EngineDeps;
  triggers: WorkflowTriggers;
} {
  const extra = deps.segmentLinks ?? {};
  let triggers: WorkflowTriggers | null = null;
  const toWorkflows: SegmentTransitionListener = {
    name: 'workflows',
    onTransitions: (transitions, ctx) => triggers!.onTransitions(transitions, ctx),
  };
  const segments = segmentsModule(deps.store, {
    listeners: [toWorkflows, ...(extra.listeners ?? [])],
    referrers: [workflowSegmentReferrer(deps.store.workflows), ...(extra.referrers ?? [])],
  });
  const engine = workflowEngine({ config: deps.config, store: deps.store, log: deps.log, membership: segments.membership });
  triggers = new WorkflowTriggers(engine);
  return { segments, engine, triggers };
}

/**
 * The workflow engine's dependencies. `membership` (the segments module) is optional: without
 * it `inSegment` is false and a workflow naming a segment is refused. The segments module's
 * transitions reach `new WorkflowTriggers(engine)` as a SegmentTransitionListener.
 */
export function workflowEngine(deps: { config: Config; store: Store; log: Logger; membership?: SegmentMembership }): EngineDeps {
  const { config, store } = deps;
  const mail = mailTransportFromConfig(config);
  return {
    workflows: store.workflows,
    deliveries: store.deliveries,
    contacts: store.contacts,
    secrets: store.secrets,
    sender: webhookSenderFromConfig(config),
    mail,
    // Test mode never mails anyone: its messages go to the outbox even when SMTP_URL is set.
    testMail: mail.kind === 'outbox' ? mail : outboxTransportFromConfig(config),
    modes: new WorkspaceModes(store.keys),
    ...(deps.membership ? { membership: deps.membership } : {}),
    settings: {
      maxEventAgeMs: config.workflowMaxEventAgeMs,
      retryScheduleMs: config.webhook.retryScheduleMs,
      emailFrom: config.email.from,
      publicUrl: config.publicUrl,
      messageIdDomain: messageIdDomainFromConfig(config),
    },
    log: deps.log.child({ module: 'workflows' }),
  };
}

export async function composeServer(deps: ComposeDeps): Promise<ComposedServer> {
  const { config, store, log } = deps;
  const clock = deps.clock ?? Date.now;
  const metrics = deps.metrics ?? new Metrics();
  const processing = new ProcessingMetrics(metrics.registry, { queue: store.queue, jobs: store.jobs, kinds: JOB_KINDS, clock });
  const storeStatus = new StoreStatus(log);
  const pending = new PendingLimit(store.events, config.maxPendingEvents, metrics.pendingGauge(), config.debugAppendDelayMs, storeStatus);
  const recorder = new ActivityRecorder(store.activity, log, clock);
  recorder.start();
  const trackingPlan = new TrackingPlanModule({ plans: store.trackingPlans });
  const ingest = new IngestService(pending, config.dedupWindowMs, metrics.ingestCounters(), store.events, recorder, trackingPlan.checks);
  const segment = new SegmentIngest(ingest, store.identity, { ...metrics.ingestCounters(), held: (n) => metrics.segmentHeld.inc(n) });
  metrics.watchHeldEvents(() => store.identity.countHeld());
  const segments = segmentsModule(store, {
    listeners: deps.segmentLinks?.listeners ?? [],
    referrers: [workflowSegmentReferrer(store.workflows), ...(deps.segmentLinks?.referrers ?? [])],
  });
  const catalog = new CatalogModule({ catalog: store.catalog });
  // Reads only (the ledger, contacts, workflows, segments): see dry-run.service.ts.
  const dryRun = new DryRunService({
    ledger: store.events,
    contacts: store.contacts,
    workflows: store.workflows,
    segments: { service: segments.service, membership: segments.membership },
    settings: { dedupWindowMs: config.dedupWindowMs, maxEventAgeMs: config.workflowMaxEventAgeMs },
    plans: trackingPlan.checks,
  });
  const dashboardRoutes: DashboardRoute[] = [];
  const modules: ModuleMount[] = [
    // First: it records the routes registered after it.
    (app) => mountOpenApi(app),
    (app, ctx) => app.register(ingestRoutes, { ingest, guard: ctx.guard, clock: ctx.clock, dedupWindowMs: config.dedupWindowMs, dryRun }),
    (app, ctx) => app.register(segmentRoutes, { segment, guardDeps: ctx.guardDeps, clock: ctx.clock }),
    (app, ctx) =>
      app.register(eventsReadRoutes, { events: store.events, guard: ctx.guard, clock: ctx.clock, workflowTrace: (ws, id) => store.workflows.traces(ws, id) }),
    (app, ctx) =>
      app.register(workflowsRoutes, {
        workflows: store.workflows,
        deliveries: store.deliveries,
        guard: ctx.guard,
        clock: ctx.clock,
        egress: { allowPrivate: config.webhook.allowPrivate, allowedHosts: config.webhook.allowedHosts },
        membership: segments.membership,
      }),
    (app, ctx) =>
      app.register(replayRoutes, {
        replay: {
          events: store.events,
          contacts: store.contacts,
          workflows: store.workflows,
          membership: segments.membership,
          settings: { maxEventAgeMs: config.workflowMaxEventAgeMs, emailFrom: config.email.from },
        },
        workflows: store.workflows,
        guard: ctx.guard,
        clock: ctx.clock,
        egress: { allowPrivate: config.webhook.allowPrivate, allowedHosts: config.webhook.allowedHosts },
      }),
    (app, ctx) => app.register(contactsRoutes, { contacts: store.contacts, guard: ctx.guard, clock: ctx.clock, onContactWritten: segments.onContactWritten }),
    (app, ctx) => segments.mount(app, ctx),
    (app, ctx) => app.register(apiKeysRoutes, { guard: ctx.guard }),
    (app, ctx) => app.register(workspaceSecretsRoutes, { secrets: store.secrets, guard: ctx.guard, clock: ctx.clock }),
    (app, ctx) => app.register(unsubscribeRoutes, { contacts: store.contacts, secrets: store.secrets, clock: ctx.clock }),
    (app, ctx) => app.register(statsRoutes, { activity: store.activity, guard: ctx.guard, clock: ctx.clock }),
    (app, ctx) => catalog.mount(app, ctx),
    (app, ctx) => trackingPlan.mount(app, ctx),
    (app) => app.register(opsRoutes, { ping: () => store.ping({ timeoutMs: config.healthCheckTimeoutMs }), status: storeStatus, registry: metrics.registry }),
    (app) => app.register(notImplementedRoutes),
    (app, ctx) =>
      mountDashboard(app, {
        users: store.users,
        keys: store.keys,
        events: store.events,
        contacts: store.contacts,
        activity: store.activity,
        queue: store.queue,
        workflowTrace: (ws, id) => store.workflows.traces(ws, id),
        segments: store.segments,
        workflows: store.workflows,
        deliveries: store.deliveries,
        secrets: store.secrets,
        jobs: store.jobs,
        catalog: store.catalog,
        trackingPlan: trackingPlan.service,
        mail: { smtpConfigured: config.email.smtpUrl !== null, from: config.email.from, outboxDir: config.email.outboxDir },
        outbox: new OutboxReader(config.email.outboxDir),
        limiter: ctx.limiter,
        clock: ctx.clock,
        routeTable: dashboardRoutes,
        modes: new WorkspaceModes(store.keys),
      }),
  ];
  const built = await buildServer({ config, log, clock, metrics, keys: store.keys, modules, storeStatus });
  const summary = startTrafficSummary({
    metrics,
    log,
    intervalMs: config.logSummaryIntervalMs,
    queue: store.queue,
    processed: () => processing.processedCount(),
    clock,
  });
  return {
    ...built,
    processing,
    ingestActive: () => pending.appendedWithin(50),
    dashboardRoutes,
    flushActivity: () => recorder.flush(),
    async close() {
      summary.stop();
      await built.close();
      await recorder.stop(); // after the last request: its activity is written while the store is open
    },
  };
}

/** The background worker of a process: the contact merge plus every module's job kinds. */
export function composeWorker(deps: {
  config: Config;
  store: Store;
  log: Logger;
  observer: ProcessingObserver;
  clock?: () => number;
  ingestActive?: () => boolean;
  /** The server's metrics when the worker runs beside it (attached held events are counted there). */
  metrics?: Metrics;
  /**
   * This worker may append events (default true). Attaching held Segment events appends to
   * the event log, which on SQLite only the `serve` process may do (its writer thread holds
   * the newest dedup keys; a second appender would break dedup): a standalone SQLite
   * `smashsend worker` leaves that job kind to the server's own worker.
   */
  appendsEvents?: boolean;
  segmentLinks?: SegmentLinks;
}): Worker {
  const { config, store, log, observer } = deps;
  const { kinds, stages, upkeep, close } = moduleProcessing({ config, store, log, ...(deps.segmentLinks ? { segmentLinks: deps.segmentLinks } : {}) });
  return new Worker({
    store,
    config,
    log,
    observer,
    stages,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.ingestActive ? { ingestActive: deps.ingestActive } : {}),
    kinds: [
      ...kinds,
      ...(deps.appendsEvents === false
        ? []
        : [attachHeldKind({ identity: store.identity, events: store.events, dedupWindowMs: config.dedupWindowMs, ...(deps.metrics ? { attached: (n: number) => deps.metrics!.segmentAttached.inc(n) } : {}) })]),
    ],
    upkeep: [(now) => store.identity.purgeHeld(now - config.unidentifiedRetentionMs), ...upkeep],
    onStopped: [close],
  });
}
