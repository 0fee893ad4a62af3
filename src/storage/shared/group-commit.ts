/**
 * Group commit, the queueing half: requests that arrive while the event loop is busy wait in
 * one list, and on the next turn (setImmediate) the whole list goes to `commit` as one group:
 * one transaction, one round trip, one fsync for many requests instead of one each. Each
 * backend keeps its own commit function (SQLite main thread: one message to the writer
 * thread; writer thread: one transaction, answered after the WAL sync; PostgreSQL: one
 * statement); this class only decides when a group goes and answers each request.
 *
 * It is the hot path (every append passes here), so a request costs its promise and three
 * array slots, no wrapper object: requests, resolvers and rejecters are kept in parallel
 * arrays, and the request array itself is what `commit` receives.
 */

export interface GroupCommitOptions {
  /**
   * Groups committing at once (default: no limit). At the limit, requests keep queueing and
   * go together when a group finishes: PostgreSQL caps it at 2, so a burst becomes a few
   * large statements rather than many small ones competing for connections.
   */
  maxInFlight?: number;
}

/**
 * Commits one group. Returns one result per request, in order; synchronously (the results
 * are the answer at once) or as a promise (e.g. resolved once the commit is on disk). A
 * throw or a rejection fails every request of the group with that error.
 */
export type CommitGroup<Req, Res> = (group: Req[]) => Res[] | Promise<Res[]>;

export class GroupCommit<Req, Res> {
  private requests: Req[] = [];
  private resolvers: ((result: Res) => void)[] = [];
  private rejecters: ((err: unknown) => void)[] = [];
  private scheduled = false;
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly onSettled = (): void => {
    this.inFlight--;
    this.schedule();
  };

  constructor(
    private readonly commit: CommitGroup<Req, Res>,
    opts: GroupCommitOptions = {},
  ) {
    this.maxInFlight = opts.maxInFlight ?? Infinity;
  }

  /** Queues one request for the next group; resolves with its result once its group has committed. */
  submit(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.requests.push(request);
      this.resolvers.push(resolve);
      this.rejecters.push(reject);
      this.schedule();
    });
  }

  /**
   * Commits what is pending now, without waiting for the next turn (before closing, say). At
   * the in-flight limit it does nothing: the requests go when a committing group finishes.
   */
  flush(): void {
    this.scheduled = false;
    if (this.requests.length === 0 || this.inFlight >= this.maxInFlight) return;
    const group = this.requests;
    const resolvers = this.resolvers;
    const rejecters = this.rejecters;
    this.requests = [];
    this.resolvers = [];
    this.rejecters = [];
    this.inFlight++;
    let out: Res[] | Promise<Res[]>;
    try {
      out = this.commit(group);
    } catch (err) {
      for (const reject of rejecters) reject(err);
      this.onSettled();
      return;
    }
    if (Array.isArray(out)) {
      answer(resolvers, out);
      this.onSettled();
      return;
    }
    out.then(
      (results) => {
        answer(resolvers, results);
        this.onSettled();
      },
      (err: unknown) => {
        for (const reject of rejecters) reject(err);
        this.onSettled();
      },
    );
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.requests.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      if (this.scheduled) this.flush();
    });
  }
}

function answer<Res>(resolvers: ((result: Res) => void)[], results: Res[]): void {
  for (let i = 0; i < resolvers.length; i++) resolvers[i]!(results[i]!);
}
