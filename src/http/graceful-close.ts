/**
 * SIGTERM with a deadline. `fastify.close()` stops accepting and waits for every connection
 * to end, so one client trickling a body (or half a header block) kept the process up until
 * the 15 s force-exit, which exits 1. Here:
 *
 * 1. `closing` is set: a request arriving on a kept-alive connection is answered 503
 *    (`Server is shutting down`, Connection: close) by the onRequest hook, and idle
 *    connections are closed every 50 ms as their requests finish.
 * 2. After `drainMs`, every connection still receiving a request (its body, or its headers)
 *    is answered 503 on the socket and closed. Requests whose body has arrived are left to
 *    finish: their appends are committed and their answers due.
 * 3. After `drainMs` more, whatever is left is cut (closeAllConnections), and close() returns.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { answerOnSocket, REQUEST_ID } from './client-errors.js';
import { Errors } from './errors.js';

type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

export class GracefulClose {
  closing = false;
  private readonly sockets = new Set<HttpSocket>();

  constructor(
    private readonly server: Server,
    private readonly drainMs: number,
  ) {
    // Per connection, not per request.
    server.on('connection', (s: HttpSocket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  /** Runs `close` (fastify.close: stop accepting, wait for connections) under the deadline. */
  async run(close: () => Promise<void>): Promise<{ answeredSlow: number; cut: boolean }> {
    this.closing = true;
    const sweep = setInterval(() => this.server.closeIdleConnections(), 50);
    const closed = close();
    let answeredSlow = 0;
    let cut = false;
    try {
      if (!(await settlesWithin(closed, this.drainMs))) {
        answeredSlow = this.answerSlowRequests();
        if (!(await settlesWithin(closed, this.drainMs))) {
          cut = true;
          this.server.closeAllConnections();
        }
      }
      await closed;
    } finally {
      clearInterval(sweep);
    }
    return { answeredSlow, cut };
  }

  /** Answers 503 on every connection whose current request has not fully arrived. */
  private answerSlowRequests(): number {
    let n = 0;
    this.server.closeIdleConnections(); // none left that are merely between requests
    for (const s of this.sockets) {
      if (s.destroyed) continue;
      const res = s._httpMessage;
      if (res) {
        // Routed, body still arriving, nothing answered yet.
        if (res.headersSent || res.req.complete) continue;
        answerOnSocket(s, Errors.shuttingDown(), (res.req as IncomingMessage & { [REQUEST_ID]?: string })[REQUEST_ID]);
        n++;
      } else if (s.bytesRead > 0 || s.readableLength > 0) {
        // Part of a header block (idle kept-alive sockets were closed by the sweep).
        answerOnSocket(s, Errors.shuttingDown());
        n++;
      }
    }
    return n;
  }
}

function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    p.then(
      () => {
        clearTimeout(t);
        resolve(true);
      },
      () => {
        clearTimeout(t);
        resolve(true);
      },
    );
  });
}
