/**
 * One `info` line per interval while there is traffic, for an operator watching the console:
 * `ingested 1,234 events (3 rejected, 12 duplicate), processed 1,230, queue 4, lag 0.2 s`.
 * "ingested" counts every event the ingest endpoints received in the interval (accepted +
 * duplicate + rejected); "processed" what this process's worker finished; queue and lag are
 * the store's (the same for every process). Idle intervals (nothing ingested or processed)
 * log nothing, so scrapes and health checks alone stay quiet. Figures come from the metrics
 * registry, read once per interval: nothing is added to the hot path.
 */
import type { Counter } from 'prom-client';
import type { Logger } from 'pino';
import type { QueueStore } from '../processing/event-queue.port.js';
import type { Metrics } from './metrics.js';

export interface TrafficSummaryDeps {
  metrics: Metrics;
  log: Logger;
  intervalMs: number;
  queue?: QueueStore;
  /** Events this process's worker has processed so far (processing-metrics.ts). */
  processed?: () => Promise<number>;
  clock?: () => number;
}

interface Totals {
  accepted: number;
  duplicate: number;
  rejected: number;
  processed: number;
}

async function total(c: Counter<string>): Promise<number> {
  return (await c.get()).values.reduce((a, v) => a + v.value, 0);
}

async function totals(m: Metrics, processedSoFar?: () => Promise<number>): Promise<Totals> {
  const [accepted, duplicate, rejected, processed] = await Promise.all([total(m.accepted), total(m.duplicate), total(m.rejected), processedSoFar ? processedSoFar() : 0]);
  return { accepted, duplicate, rejected, processed };
}

const n = (x: number) => x.toLocaleString('en-US');

export function formatSummary(s: { ingested: number; rejected: number; duplicate: number; processed: number; queue?: number; lagSeconds?: number }): string {
  const head = `ingested ${n(s.ingested)} events (${n(s.rejected)} rejected, ${n(s.duplicate)} duplicate), processed ${n(s.processed)}`;
  return s.queue === undefined ? head : `${head}, queue ${n(s.queue)}, lag ${(s.lagSeconds ?? 0).toFixed(1)} s`;
}

/** Starts the summary timer (unref'd); `stop()` ends it. An interval of 0 starts nothing. */
export function startTrafficSummary(deps: TrafficSummaryDeps): { stop(): void } {
  if (deps.intervalMs <= 0) return { stop() {} };
  const clock = deps.clock ?? Date.now;
  let last: Totals | null = null;
  let running = false;
  const tick = async () => {
    const now = await totals(deps.metrics, deps.processed);
    const prev = last ?? { accepted: 0, duplicate: 0, rejected: 0, processed: 0 };
    last = now;
    const d = {
      accepted: now.accepted - prev.accepted,
      duplicate: now.duplicate - prev.duplicate,
      rejected: now.rejected - prev.rejected,
      processed: now.processed - prev.processed,
    };
    const ingested = d.accepted + d.duplicate + d.rejected;
    if (ingested === 0 && d.processed === 0) return;
    const fields: Record<string, number> = { ingested, ...d, intervalMs: deps.intervalMs };
    let queue: number | undefined;
    let lagSeconds: number | undefined;
    if (deps.queue) {
      try {
        const t = clock();
        const st = await deps.queue.stats(t);
        queue = st.depth;
        lagSeconds = st.oldestReceivedAt === null ? 0 : Math.max(0, t - st.oldestReceivedAt) / 1000;
        Object.assign(fields, { queue, lagSeconds });
      } catch (err) {
        deps.log.warn({ err }, 'traffic summary: queue stats unavailable');
      }
    }
    deps.log.info(fields, formatSummary({ ingested, rejected: d.rejected, duplicate: d.duplicate, processed: d.processed, queue, lagSeconds }));
  };
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    tick()
      .catch((err) => deps.log.warn({ err }, 'traffic summary failed'))
      .finally(() => {
        running = false;
      });
  }, deps.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
