/**
 * What the server knows of its store from the requests it serves, for the log and /health.
 *
 * During an outage every request failed with a logged stack: thousands of identical lines a
 * second, burying the one that said what broke. Instead this logs one line per state change,
 * `store unavailable: <reason>` and `store available again after N s; M requests answered
 * 503 during the outage`, plus at most one summary per `summaryEveryMs` while it lasts
 * (emitted by the failures themselves, so an idle outage logs nothing and needs no timer).
 *
 * The outage ends at the next successful append, or at a successful /health ping when no
 * append failed (a read-only outage): a ping alone cannot end an outage of writes, since a
 * full disk still answers `SELECT 1`.
 *
 * `writesRefused()` is what makes /health say `degraded`: an append failed within
 * `degradedForMs` because the store refuses writes (disk full, read-only), and none has
 * succeeded since.
 */
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../storage/ports.js';

export interface StoreStatusOptions {
  clock?: () => number;
  summaryEveryMs?: number;
  degradedForMs?: number;
}

interface Outage {
  since: number;
  answered503: number;
  lastSummaryAt: number;
  appendFailed: boolean;
}

export class StoreStatus {
  private outage: Outage | null = null;
  private writeRefusedAt: number | null = null;
  private readonly clock: () => number;
  private readonly summaryEveryMs: number;
  private readonly degradedForMs: number;

  constructor(
    private readonly log: Logger,
    opts: StoreStatusOptions = {},
  ) {
    this.clock = opts.clock ?? Date.now;
    this.summaryEveryMs = opts.summaryEveryMs ?? 10_000;
    this.degradedForMs = opts.degradedForMs ?? 30_000;
  }

  get unavailable(): boolean {
    return this.outage !== null;
  }

  /** A request is being answered 503 because the store failed. */
  answered503(err: StoreUnavailableError): void {
    const now = this.clock();
    const o = this.begin(err, now);
    o.answered503++;
    if (now - o.lastSummaryAt >= this.summaryEveryMs) {
      o.lastSummaryAt = now;
      this.log.warn(
        { answered503: o.answered503, outageSeconds: Math.round((now - o.since) / 1000) },
        `${o.answered503} requests answered 503 during the outage (${Math.round((now - o.since) / 1000)} s so far): ${err.message}`,
      );
    }
  }

  /** An append failed (any error): remembered for /health when the store refuses writes. */
  appendFailed(err: unknown): void {
    if (!(err instanceof StoreUnavailableError)) return;
    const now = this.clock();
    if (err.writeRefused) this.writeRefusedAt = now;
    this.begin(err, now).appendFailed = true;
  }

  appendSucceeded(): void {
    this.writeRefusedAt = null;
    if (this.outage !== null) this.end();
  }

  /** /health's ping failed: answered 503 like any request the store failed. */
  pingFailed(err: unknown): void {
    this.answered503(err instanceof StoreUnavailableError ? err : new StoreUnavailableError(`ping failed: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
  }

  pingSucceeded(): void {
    if (this.outage !== null && !this.outage.appendFailed) this.end();
  }

  writesRefused(): boolean {
    return this.writeRefusedAt !== null && this.clock() - this.writeRefusedAt < this.degradedForMs;
  }

  private begin(err: StoreUnavailableError, now: number): Outage {
    if (this.outage !== null) return this.outage;
    this.outage = { since: now, answered503: 0, lastSummaryAt: now, appendFailed: false };
    // One line with the cause (no stack: the driver's code is in the message).
    const cause = (err.cause as { code?: unknown } | undefined)?.code;
    this.log.error({ writeRefused: err.writeRefused, ...(typeof cause === 'string' ? { cause } : {}) }, `store unavailable: ${err.message}`);
    return this.outage;
  }

  private end(): void {
    const o = this.outage!;
    this.outage = null;
    const seconds = Math.round((this.clock() - o.since) / 100) / 10;
    this.log.info(
      { answered503: o.answered503, outageSeconds: seconds },
      `store available again after ${seconds} s; ${o.answered503} requests answered 503 during the outage`,
    );
  }
}
