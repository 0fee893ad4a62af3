import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IngestCounters } from '../ingest/ingest.service.js';
import type { PendingGauge } from '../ingest/pending-limit.js';

export type Endpoint = 'single' | 'batch';

/** Prometheus metrics of one server (its own registry: several servers may share a process in tests). */
export class Metrics {
  readonly registry = new Registry();
  readonly accepted: Counter<'endpoint'>;
  readonly duplicate: Counter<'endpoint'>;
  readonly failed: Counter<'endpoint'>;
  readonly rateLimited: Counter<'bucket'>;
  readonly rateLimitBackendErrors: Counter;
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly storeUnavailable: Counter;
  readonly backpressure: Counter;
  readonly pendingEvents: Gauge;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const r = this.registry;
    this.accepted = new Counter({ name: 'smashsend_events_accepted_total', help: 'Events accepted and stored', labelNames: ['endpoint'], registers: [r] });
    this.duplicate = new Counter({ name: 'smashsend_events_duplicate_total', help: 'Events answered as duplicates (not stored again)', labelNames: ['endpoint'], registers: [r] });
    this.failed = new Counter({ name: 'smashsend_events_failed_total', help: 'Events refused by validation or size', labelNames: ['endpoint'], registers: [r] });
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
    this.pendingEvents = new Gauge({ name: 'smashsend_ingest_pending_events', help: 'Events accepted by the API, not yet committed', registers: [r] });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: r, prefix: 'smashsend_' });
  }

  /** Ingest's counters, as the IngestService reports them. */
  ingestCounters(): IngestCounters {
    return {
      accepted: (endpoint, n) => this.accepted.inc({ endpoint }, n),
      duplicate: (endpoint, n) => this.duplicate.inc({ endpoint }, n),
      rejected: (endpoint, n) => this.failed.inc({ endpoint }, n),
    };
  }

  /** The hot path's backpressure gauge (PendingLimit). */
  pendingGauge(): PendingGauge {
    return { refused: () => this.backpressure.inc(), pending: (n) => this.pendingEvents.set(n) };
  }
}
