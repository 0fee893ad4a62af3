/**
 * Buffers what ingest did and writes it to the ActivityStore every FLUSH_MS, in one call:
 * per-minute counters (by receipt minute and event name) and rows for duplicates and
 * rejected events. On the request path it only updates a Map and pushes to an array, so
 * ingest does not wait on it; a batch of 200 events costs ~200 Map updates.
 *
 * Bounded: at most MAX_ROWS rows wait for a flush (beyond, rows are dropped and counted in
 * `droppedRows`; counters are never dropped). A failed write is logged and dropped: the
 * dashboard may then miss a second of activity, and the stats undercount it, but nothing of
 * ingest itself is affected. A process killed with kill -9 loses its last unflushed second.
 */
import type { Logger } from 'pino';
import { normalizeEmail } from '../core/email.js';
import type { IngestObserver } from '../ingest/ingest.service.js';
import type { ActivityInput, ActivityStore, CountDelta } from './activity.port.js';

export const FLUSH_MS = 250;
export const MAX_ROWS = 20_000;
/** Duplicates and rejections stay in the live view's log this long. */
export const ACTIVITY_RETENTION_MS = 24 * 3600_000;

const MINUTE = 60_000;

function field(raw: unknown, name: string, max: number): string | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const v = (raw as Record<string, unknown>)[name];
  return typeof v === 'string' && v.length > 0 ? v.slice(0, max) : null;
}

export class ActivityRecorder implements IngestObserver {
  private counts = new Map<string, CountDelta>();
  private rows: ActivityInput[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  droppedRows = 0;

  constructor(
    private readonly store: ActivityStore,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  private count(workspaceId: string, now: number, event: string, k: 'accepted' | 'duplicate' | 'rejected'): void {
    const minute = now - (now % MINUTE);
    const key = `${workspaceId}\0${minute}\0${event}`;
    let c = this.counts.get(key);
    if (!c) this.counts.set(key, (c = { workspaceId, minute, event, accepted: 0, duplicate: 0, rejected: 0 }));
    c[k]++;
  }

  private push(row: ActivityInput): void {
    if (this.rows.length >= MAX_ROWS) this.droppedRows++;
    else this.rows.push(row);
  }

  ingested(o: Parameters<IngestObserver['ingested']>[0]): void {
    for (let i = 0; i < o.items.length; i++) {
      const item = o.items[i]!;
      const outcome = o.outcomes[i];
      this.count(o.workspaceId, o.now, item.event, outcome === 'duplicate' ? 'duplicate' : 'accepted');
      if (outcome === 'duplicate') {
        this.push({ workspaceId: o.workspaceId, at: o.now, kind: 'duplicate', source: o.endpoint, messageId: item.messageId, event: item.event, email: item.email, errors: null });
      }
    }
    for (const r of o.rejected) {
      const name = field(r.raw, 'event', 60);
      const email = field((r.raw as { identify?: unknown } | null)?.identify ?? null, 'email', 254);
      this.count(o.workspaceId, o.now, name !== null && /^[A-Za-z0-9_.:-]+$/.test(name) ? name : '', 'rejected');
      this.push({
        workspaceId: o.workspaceId,
        at: o.now,
        kind: 'rejected',
        source: o.endpoint,
        messageId: field(r.raw, 'messageId', 128),
        event: name,
        email: email === null ? null : (normalizeEmail(email) ?? email),
        errors: r.errors.slice(0, 10).map((e) => ({ code: e.code, message: e.message })),
      });
    }
  }

  /** Writes what is buffered (one write at a time); resolves when it is written. */
  async flush(): Promise<void> {
    if (this.inFlight) await this.inFlight;
    if (this.counts.size === 0 && this.rows.length === 0) return;
    const counts = [...this.counts.values()];
    const rows = this.rows;
    this.counts = new Map();
    this.rows = [];
    this.inFlight = this.store
      .record({ counts, rows, retainBefore: this.clock() - ACTIVITY_RETENTION_MS })
      .catch((err: unknown) => this.log.warn({ err, counts: counts.length, rows: rows.length }, 'ingest activity not recorded (stats and live view miss it)'))
      .finally(() => {
        this.inFlight = null;
      });
    await this.inFlight;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
