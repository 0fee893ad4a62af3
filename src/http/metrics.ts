import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IngestCounters } from '../ingest/ingest.service.js';
import type { PendingGauge } from '../ingest/pending-limit.js';
import { VERSION } from '../config/version.js';
import type { RateBucket } from './rate-limit/rate-limiter.js';

export type Endpoint = 'single' | 'batch' | 'segment';

/** Every value of each label, so that each series exists (at 0) from the first scrape: dashboards and `rate()` need no `or vector(0)`. */
const ENDPOINTS: readonly Endpoint[] = ['single', 'batch', 'segment'];
const BUCKETS: readonly RateBucket[] = ['single', 'batch', 'api'];

/**
 * Label cardinality of the per-workspace duplicate counter: at most this many workspaces get
 * a series of their own (per process, first come); duplicates of any further workspace are
 * counted under `workspace="_other"`. Workspaces are created by operators (the CLI), never by
 * API clients, so the label set cannot be grown from outside; the cap keeps a deployment
 * with thousands of tenants from exporting thousands of series.
 */
export const MAX_WORKSPACE_SERIES = 100;
export const OTHER_WORKSPACES = '_other';

/** Prometheus metrics of one server (its own registry: several servers may share a process in tests). */
export class Metrics {
  readonly registry = new Registry();
  readonly accepted: Counter<'endpoint'>;
  readonly duplicate: Counter<'endpoint'>;
  readonly duplicateByWorkspace: Counter<'workspace'>;
  private readonly workspaceSeries = new Set<string>();
  readonly rejected: Counter<'endpoint'>;
  readonly rateLimited: Counter<'bucket'>;
  readonly rateLimitBackendErrors: Counter;
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly storeUnavailable: Counter;
  readonly backpressure: Counter;
  readonly pendingEvents: Gauge;
  /** Segment-compatible paths: events held as unidentified, and held events attached to a contact later. */
  readonly segmentHeld: Counter;
  readonly segmentAttached: Counter;
  /** Events a tracking plan found a problem with, by endpoint and plan mode (per-workspace counts: GET /v1/tracking-plan/violations). */
  readonly planViolations: Counter<'endpoint' | 'mode'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const r = this.registry;
    this.accepted = new Counter({ name: 'smashsend_events_accepted_total', help: 'Events accepted and stored', labelNames: ['endpoint'], registers: [r] });
    this.duplicate = new Counter({ name: 'smashsend_events_duplicate_total', help: 'Events answered as duplicates (not stored again)', labelNames: ['endpoint'], registers: [r] });
    this.duplicateByWorkspace = new Counter({
      name: 'smashsend_events_duplicate_by_workspace_total',
      help: `Events answered as duplicates, by workspace id (at most ${MAX_WORKSPACE_SERIES} workspaces, the rest as "${OTHER_WORKSPACES}")`,
      labelNames: ['workspace'],
      registers: [r],
    });
    // "rejected", not "failed": these events were refused at the door and never stored;
    // processing failures are smashsend_processing_failures_total.
    this.rejected = new Counter({ name: 'smashsend_events_rejected_total', help: 'Events refused by validation or size (not stored)', labelNames: ['endpoint'], registers: [r] });
    this.rateLimited = new Counter({ name: 'smashsend_rate_limit_refusals_total', help: 'Requests refused with 429', labelNames: ['bucket'], registers: [r] });
    this.rateLimitBackendErrors = new Counter({ name: 'smashsend_rate_limit_backend_errors_total', help: 'Rate-limit checks that fell back to per-process counters because Redis was unreachable', registers: [r] });
    this.requestDuration = new Histogram({
      name: 'smashsend_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [r],
    });
    this.storeUnavailable = new Counter({ name: 'smashsend_store_unavailable_total', help: 'Requests answered 503 because the store was unavailable', registers: [r] });
    this.backpressure = new Counter({ name: 'smashsend_ingest_backpressure_total', help: 'Ingest requests refused with 503 because too many events were awaiting commit', registers: [r] });
    this.segmentHeld = new Counter({ name: 'smashsend_segment_held_total', help: 'Segment-compatible calls with no resolvable email, held for a later identify or alias', registers: [r] });
    this.segmentAttached = new Counter({ name: 'smashsend_segment_attached_total', help: 'Held Segment-compatible events attached to a contact once their id was linked', registers: [r] });
    this.planViolations = new Counter({
      name: 'smashsend_tracking_plan_violations_total',
      help: 'Events that broke their workspace\'s tracking plan: mode "warn" accepted and flagged, "block" refused',
      labelNames: ['endpoint', 'mode'],
      registers: [r],
    });
    this.pendingEvents = new Gauge({ name: 'smashsend_ingest_pending_events', help: 'Events accepted by the API, not yet committed', registers: [r] });
    new Gauge({ name: 'smashsend_build_info', help: 'This build: always 1, with its version as a label', labelNames: ['version'], registers: [r] }).set({ version: VERSION }, 1);
    for (const endpoint of ENDPOINTS) {
      this.accepted.inc({ endpoint }, 0);
      this.duplicate.inc({ endpoint }, 0);
      this.rejected.inc({ endpoint }, 0);
      for (const mode of ['warn', 'block']) this.planViolations.inc({ endpoint, mode }, 0);
    }
    for (const bucket of BUCKETS) this.rateLimited.inc({ bucket }, 0);
    // Node's own metrics under their standard names (process_*, nodejs_*), as the stock
    // Node.js dashboards expect them.
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: r });
  }

  /** Ingest's counters, as the IngestService reports them. */
  ingestCounters(): IngestCounters {
    return {
      accepted: (endpoint, n) => this.accepted.inc({ endpoint }, n),
      duplicate: (endpoint, n, workspaceId) => {
        this.duplicate.inc({ endpoint }, n);
        this.duplicateByWorkspace.inc({ workspace: this.workspaceLabel(workspaceId) }, n);
      },
      rejected: (endpoint, n) => this.rejected.inc({ endpoint }, n),
      planViolations: (endpoint, mode, n) => this.planViolations.inc({ endpoint, mode }, n),
    };
  }

  private workspaceLabel(workspaceId: string): string {
    if (this.workspaceSeries.has(workspaceId)) return workspaceId;
    if (this.workspaceSeries.size >= MAX_WORKSPACE_SERIES) return OTHER_WORKSPACES;
    this.workspaceSeries.add(workspaceId);
    return workspaceId;
  }

  /** `smashsend_segment_unidentified_events`: held events now (read from the store at scrape time). */
  watchHeldEvents(count: () => Promise<number>): void {
    new Gauge({
      name: 'smashsend_segment_unidentified_events',
      help: 'Segment-compatible events held as unidentified now (waiting for an identify or alias, at most UNIDENTIFIED_RETENTION_DAYS)',
      registers: [this.registry],
      async collect() {
        // A store that does not answer keeps the last value: /metrics itself must still answer.
        await count().then(
          (n) => this.set(n),
          () => {},
        );
      },
    });
  }

  /** The hot path's backpressure gauge (PendingLimit). */
  pendingGauge(): PendingGauge {
    return { refused: () => this.backpressure.inc(), pending: (n) => this.pendingEvents.set(n) };
  }
}
