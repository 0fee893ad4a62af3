/**
 * Prometheus figures of background processing, per job kind. The gauges are read from the
 * store at scrape time (so every process reports the same queue, whichever is scraped); the
 * counters are this process's workers'. The contact merge keeps its original names too
 * (smashsend_queue_*, smashsend_events_processed_total), which dashboards already use.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { APPLY_EVENTS_KIND } from '../contacts/apply-events.job.js';
import type { QueueStore } from './event-queue.port.js';
import type { ProcessingObserver } from './job-kind.js';
import type { JobKindStats, JobQueue } from './job-queue.port.js';

interface Snapshot {
  depth: number;
  lag: number;
  failed: number;
  kinds: JobKindStats[];
}

export class ProcessingMetrics implements ProcessingObserver {
  private readonly processed: Counter;
  private readonly processingFailures: Counter<'outcome'>;
  private readonly attempts: Counter<'kind'>;
  private readonly completions: Counter<'kind'>;
  private readonly failures: Counter<'kind' | 'outcome'>;
  private readonly stageSeconds: Counter<'stage'>;
  private readonly stageEvents: Counter<'stage'>;

  constructor(
    registry: Registry,
    opts: { queue: Pick<QueueStore, 'stats'>; jobs: Pick<JobQueue, 'stats'>; kinds: string[]; clock?: () => number },
  ) {
    const r = [registry];
    const clock = opts.clock ?? Date.now;
    this.processed = new Counter({ name: 'smashsend_events_processed_total', help: 'Events processed by workers of this process', registers: r });
    this.processingFailures = new Counter({ name: 'smashsend_processing_failures_total', help: 'Event processing failures (retried or final)', labelNames: ['outcome'], registers: r });
    this.attempts = new Counter({ name: 'smashsend_jobs_attempts_total', help: 'Attempts started by workers of this process, by job kind', labelNames: ['kind'], registers: r });
    this.completions = new Counter({ name: 'smashsend_jobs_completed_total', help: 'Work finished by workers of this process, by job kind', labelNames: ['kind'], registers: r });
    this.failures = new Counter({ name: 'smashsend_jobs_failures_total', help: 'Failed attempts by job kind: retried later, or failed for good', labelNames: ['kind', 'outcome'], registers: r });
    this.stageSeconds = new Counter({ name: 'smashsend_stage_seconds_total', help: 'Time spent in each stage after the contact merge (segments, workflows, catalog), this process', labelNames: ['stage'], registers: r });
    this.stageEvents = new Counter({ name: 'smashsend_stage_events_total', help: 'Processed events handled by each stage after the contact merge, this process', labelNames: ['stage'], registers: r });
    for (const kind of opts.kinds) {
      this.attempts.inc({ kind }, 0);
      this.completions.inc({ kind }, 0);
      this.failures.inc({ kind, outcome: 'retry' }, 0);
      this.failures.inc({ kind, outcome: 'failed' }, 0);
    }
    this.processingFailures.inc({ outcome: 'retry' }, 0);
    this.processingFailures.inc({ outcome: 'failed' }, 0);

    // One read of the store per scrape, shared by every gauge below.
    let last: Promise<Snapshot> | null = null;
    const read = (): Promise<Snapshot> => {
      const now = clock();
      last ??= Promise.all([opts.queue.stats(now), opts.jobs.stats(now)])
        .then(([q, kinds]) => ({
          depth: q.depth,
          lag: q.oldestReceivedAt === null ? 0 : Math.max(0, clock() - q.oldestReceivedAt) / 1000,
          failed: q.failed,
          kinds,
        }))
        .finally(() => {
          last = null;
        });
      return last;
    };
    const perKind = (set: (g: Gauge<'kind'>, s: Snapshot) => void) =>
      async function collect(this: Gauge<'kind'>) {
        const s = await read();
        this.reset();
        set(this, s);
      };
    const known = opts.kinds;
    const eachKind = (g: Gauge<'kind'>, s: Snapshot, pick: (k: JobKindStats) => number, merge: number) => {
      for (const kind of known) if (kind !== APPLY_EVENTS_KIND) g.set({ kind }, 0);
      for (const k of s.kinds) g.set({ kind: k.kind }, pick(k));
      g.set({ kind: APPLY_EVENTS_KIND }, merge);
    };
    new Gauge({ name: 'smashsend_queue_depth', help: 'Events queued, not yet processed', registers: r, async collect() { this.set((await read()).depth); } });
    new Gauge({ name: 'smashsend_queue_lag_seconds', help: 'Age of the oldest queued event', registers: r, async collect() { this.set((await read()).lag); } });
    new Gauge({ name: 'smashsend_events_failed_processing', help: 'Events whose processing failed for good', registers: r, async collect() { this.set((await read()).failed); } });
    new Gauge({
      name: 'smashsend_jobs_queued',
      help: 'Work waiting by job kind (due or scheduled later; the contact merge: queued events)',
      labelNames: ['kind'],
      registers: r,
      collect: perKind((g, s) => eachKind(g, s, (k) => k.queued, s.depth)),
    });
    new Gauge({
      name: 'smashsend_jobs_lag_seconds',
      help: 'How long the oldest due work of each kind has waited',
      labelNames: ['kind'],
      registers: r,
      collect: perKind((g, s) => eachKind(g, s, (k) => (k.oldestDueAt === null ? 0 : Math.max(0, clock() - k.oldestDueAt) / 1000), s.lag)),
    });
    new Gauge({
      name: 'smashsend_jobs_dead',
      help: 'Work failed for good by job kind (dead jobs; the contact merge: failed events)',
      labelNames: ['kind'],
      registers: r,
      collect: perKind((g, s) => eachKind(g, s, (k) => k.dead, s.failed)),
    });
  }

  stageRan(stage: string, events: number, seconds: number): void {
    this.stageSeconds.inc({ stage }, seconds);
    this.stageEvents.inc({ stage }, events);
  }

  completed(kind: string, n: number): void {
    this.completions.inc({ kind }, n);
    if (kind === APPLY_EVENTS_KIND) this.processed.inc(n);
  }

  attempted(kind: string, n: number): void {
    this.attempts.inc({ kind }, n);
  }

  failed(kind: string, outcome: 'retry' | 'failed', n: number): void {
    this.failures.inc({ kind, outcome }, n);
    if (kind === APPLY_EVENTS_KIND) this.processingFailures.inc({ outcome }, n);
  }

  /** Events processed by this process's workers so far. */
  async processedCount(): Promise<number> {
    return (await this.processed.get()).values[0]?.value ?? 0;
  }
}
