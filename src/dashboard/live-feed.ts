/**
 * One live view connection's feed (live.routes.ts polls it every POLL_MS): reads what the
 * workspace's events and the activity log gained since its positions and writes it as SSE
 * `item` events, oldest first.
 *
 * Bounded: each poll reads at most `page` of each; a client that does not keep up (more than
 * `maxBufferedBytes` unsent) gets no more items until it drains, then one `dropped` event with
 * how many it missed (the page shows "N events not shown"). A backlog beyond a page per poll
 * is counted the same way, not sent.
 *
 * Exactly once on PostgreSQL too: ids there are taken before commit, so an event can commit
 * below a position the feed has passed. acceptedAfter reports the positions it found empty;
 * the feed re-reads them on each poll for GAP_MS and drops each position once an event is
 * found in it, so nothing is sent twice.
 */
import type { AcceptedEvent, ActivityStore, SeqRange } from '../activity/activity.port.js';
import { iso } from '../http/paging.js';

/** What the feed writes to: the SSE response (ServerResponse has all three). */
export interface LiveOutput {
  write(chunk: string): unknown;
  /** Bytes written but not yet taken by the socket: grows while the client does not read. */
  readonly writableLength: number;
  readonly writableEnded: boolean;
}

export interface LiveLimits {
  /** Rows read of each source per poll. */
  page: number;
  /** Unsent bytes beyond which items are counted instead of written. */
  maxBufferedBytes: number;
  /** Further pages of each source read and only counted per poll when a page was full. */
  skipPages: number;
}

// 500 items per 300 ms poll is ~1,700 a second, more than a browser list can show; with two
// counted pages besides, a view keeps up with ~5,000 events a second of its own workspace.
export const LIVE_LIMITS: LiveLimits = { page: 500, maxBufferedBytes: 256 * 1024, skipPages: 2 };
const HEARTBEAT_MS = 15_000;
/**
 * How long an empty position is re-read: longer than an ingest transaction can stay open
 * (DATABASE_STATEMENT_TIMEOUT_MS, 5 s by default, bounds each of its statements). A position
 * empty for longer was a rolled-back transaction's (or one stuck beyond that: then missed).
 */
export const GAP_MS = 30_000;
/** Gaps kept at most (rolled-back batches leave them; each costs one range in a query). */
const MAX_GAPS = 256;

interface Gap {
  range: SeqRange;
  until: number;
}

export class LiveFeed {
  private dropped = 0;
  private busy = false;
  private lastWrite: number;
  private gaps: Gap[] = [];

  constructor(
    private readonly activity: Pick<ActivityStore, 'acceptedAfter' | 'acceptedIn' | 'activityAfter'>,
    private readonly workspaceId: string,
    private readonly out: LiveOutput,
    private position: { eventSeq: number; activityId: number },
    private readonly limits: LiveLimits = LIVE_LIMITS,
    private readonly clock: () => number = Date.now,
  ) {
    this.lastWrite = clock();
  }

  private send(event: string, data: unknown): void {
    this.out.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    this.lastWrite = this.clock();
  }

  private noteGaps(ranges: SeqRange[] | undefined): void {
    if (!ranges) return;
    const until = this.clock() + GAP_MS;
    for (const range of ranges) this.gaps.push({ range, until });
    if (this.gaps.length > MAX_GAPS) this.gaps.splice(0, this.gaps.length - MAX_GAPS);
  }

  /** Events that committed into a gap since it was seen; each found position leaves its gap. */
  private async lateEvents(): Promise<AcceptedEvent[]> {
    const now = this.clock();
    this.gaps = this.gaps.filter((g) => g.until >= now);
    if (!this.gaps.length) return [];
    const found = await this.activity.acceptedIn(this.workspaceId, this.gaps.map((g) => g.range), this.limits.page);
    for (const e of found) {
      const i = this.gaps.findIndex((g) => g.range[0] <= e.seq && e.seq <= g.range[1]);
      if (i < 0) continue;
      const { range: [lo, hi], until } = this.gaps[i]!;
      const rest: Gap[] = [];
      if (lo < e.seq) rest.push({ range: [lo, e.seq - 1], until });
      if (e.seq < hi) rest.push({ range: [e.seq + 1, hi], until });
      this.gaps.splice(i, 1, ...rest);
    }
    return found;
  }

  /** One poll; a poll still running makes this one a no-op. Store errors reach the caller. */
  async tick(): Promise<void> {
    if (this.busy || this.out.writableEnded) return;
    this.busy = true;
    try {
      const { page } = this.limits;
      const ws = this.workspaceId;
      // Gaps first: one a read below finds is re-read from the next poll on.
      const late = await this.lateEvents();
      const [accepted, other] = await Promise.all([
        this.activity.acceptedAfter(ws, this.position.eventSeq, page),
        this.activity.activityAfter(ws, this.position.activityId, page),
      ]);
      this.position.eventSeq = accepted.next;
      this.noteGaps(accepted.gaps);
      if (other.length) this.position.activityId = other[other.length - 1]!.id;
      const items = [
        ...[...late, ...accepted.items].map((e) => ({ kind: 'accepted', at: e.receivedAt, messageId: e.messageId, event: e.event, email: e.email, source: e.source ?? 'api' })),
        ...other.map((a) => ({ kind: a.kind, at: a.at, messageId: a.messageId, event: a.event, email: a.email, source: a.source, ...(a.errors ? { errors: a.errors } : {}) })),
      ].sort((a, b) => a.at - b.at);
      if (this.out.writableLength > this.limits.maxBufferedBytes) {
        this.dropped += items.length;
      } else {
        if (this.dropped > 0) this.send('dropped', { count: this.dropped });
        this.dropped = 0;
        for (const i of items) this.send('item', { ...i, at: iso(i.at) });
      }
      // More than a page waiting: the rest is read further (at most skipPages pages of each)
      // and only counted, so the view stays near now and the count is of this workspace's
      // events alone (positions span every workspace: their difference would say how busy
      // the others are). A backlog beyond that is read on the next polls, never jumped over.
      let moreAccepted = accepted.items.length === page;
      let moreOther = other.length === page;
      for (let n = 0; n < this.limits.skipPages && (moreAccepted || moreOther); n++) {
        const [a, o] = await Promise.all([
          moreAccepted ? this.activity.acceptedAfter(ws, this.position.eventSeq, page) : null,
          moreOther ? this.activity.activityAfter(ws, this.position.activityId, page) : null,
        ]);
        if (a) {
          this.position.eventSeq = a.next;
          this.noteGaps(a.gaps);
          this.dropped += a.items.length;
          moreAccepted = a.items.length === page;
        }
        if (o) {
          if (o.length) this.position.activityId = o[o.length - 1]!.id;
          this.dropped += o.length;
          moreOther = o.length === page;
        }
      }
      if (this.clock() - this.lastWrite > HEARTBEAT_MS) {
        this.out.write(': keep-alive\n\n');
        this.lastWrite = this.clock();
      }
    } finally {
      this.busy = false;
    }
  }
}
