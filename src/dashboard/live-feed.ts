/**
 * One live view connection's feed (live.routes.ts polls it every POLL_MS): reads what the
 * workspace's events and the activity log gained since its positions and writes it as SSE
 * `item` events, oldest first.
 *
 * Bounded: each poll reads at most `page` of each; a client that does not keep up (more than
 * `maxBufferedBytes` unsent) gets no more items until it drains, then one `dropped` event with
 * how many it missed (the page shows "N events not shown"). A backlog beyond a page per poll
 * is counted the same way, not sent.
 */
import type { ActivityStore } from '../activity/activity.port.js';
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

export class LiveFeed {
  private dropped = 0;
  private busy = false;
  private lastWrite: number;

  constructor(
    private readonly activity: Pick<ActivityStore, 'acceptedAfter' | 'activityAfter'>,
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

  /** One poll; a poll still running makes this one a no-op. Store errors reach the caller. */
  async tick(): Promise<void> {
    if (this.busy || this.out.writableEnded) return;
    this.busy = true;
    try {
      const { page } = this.limits;
      const ws = this.workspaceId;
      const [accepted, other] = await Promise.all([
        this.activity.acceptedAfter(ws, this.position.eventSeq, page),
        this.activity.activityAfter(ws, this.position.activityId, page),
      ]);
      this.position.eventSeq = accepted.next;
      if (other.length) this.position.activityId = other[other.length - 1]!.id;
      const items = [
        ...accepted.items.map((e) => ({ kind: 'accepted', at: e.receivedAt, messageId: e.messageId, event: e.event, email: e.email, source: 'api' })),
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
