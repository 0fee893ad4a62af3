/**
 * Answers that node:http would otherwise write itself, without our body: a request it cannot
 * parse (400), headers over the limit (431), a request not received within
 * REQUEST_BODY_TIMEOUT_MS (408), and CONNECT (which node:http hands to a 'connect' listener,
 * or drops). Each gets the catalogue's JSON body with `code` and an `x-request-id`, then the
 * connection is closed: after a framing error or a timeout nothing more on it can be trusted.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, Errors, errorBody, reasonPhrase } from './errors.js';

/** The Fastify request id, kept on the raw request (by the onRequest hook) for answers written here. */
export const REQUEST_ID = Symbol('smashsend.requestId');

/** A complete HTTP/1.1 response carrying `err` as JSON, for writing on a bare socket. */
export function rawErrorResponse(err: ApiError, requestId: string): string {
  const body = JSON.stringify(errorBody(err));
  const lines = [
    `HTTP/1.1 ${err.statusCode} ${reasonPhrase(err.statusCode)}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'connection: close',
  ];
  for (const [k, v] of Object.entries(err.headers)) if (k !== 'connection') lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Writes `err` on the socket, then closes it once the bytes are handed to the kernel. */
export function answerOnSocket(socket: Duplex, err: ApiError, requestId: string = randomUUID()): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(rawErrorResponse(err, requestId), () => socket.destroy());
  // A peer that never reads must not keep the socket open either.
  setTimeout(() => socket.destroy(), 2000).unref();
}

/** Maps node:http's client error codes (llhttp `HPE_*`, request timeout) to catalogue errors. */
export function clientErrorFor(code: string | undefined, requestTimeoutMs: number): ApiError {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return Errors.requestTimeout(requestTimeoutMs);
    case 'HPE_HEADER_OVERFLOW':
      return Errors.headersTooLarge();
    case 'HPE_INVALID_METHOD':
      return Errors.invalidRequest('Malformed HTTP request: unknown method');
    case 'HPE_INVALID_URL':
      return Errors.invalidRequest('Malformed HTTP request: invalid request target');
    case 'HPE_INVALID_VERSION':
      return Errors.invalidRequest('Malformed HTTP request: invalid HTTP version');
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return Errors.invalidRequest('Malformed HTTP request: invalid chunked encoding');
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return Errors.invalidRequest('Malformed HTTP request: invalid Content-Length or Transfer-Encoding');
    default:
      return Errors.invalidRequest();
  }
}

export interface ClientErrorOptions {
  requestTimeoutMs: number;
  /** Called for every error answered here (for metrics); never throws. */
  onAnswered?: (err: ApiError) => void;
}

/** Fastify's `clientErrorHandler` (it installs the server's 'clientError' listener itself). */
export function clientErrorHandler(opts: ClientErrorOptions): (err: Error & { code?: string }, socket: Duplex) => void {
  return (err, socket) => {
    // The peer is gone, or a response is already under way on this socket: nothing to answer.
    const s = socket as Duplex & { _httpMessage?: ServerResponse | null; parser?: { incoming?: IncomingMessage | null } | null };
    const inFlight = s._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    // A request answered before its body arrived (401, 413, 503) whose client then stalled:
    // its response is out, a second one would corrupt the stream. node:http's own handler has
    // the same blind spot; the parser's current message tells (node internals, checked softly).
    const incoming = s.parser?.incoming;
    if (!inFlight && incoming && !incoming.complete && incoming.headers !== undefined) {
      socket.destroy();
      return;
    }
    const api = clientErrorFor(err.code, opts.requestTimeoutMs);
    // A request already routed (a body timeout) has its id on the response; reuse it.
    const id = (inFlight?.req as (IncomingMessage & { [REQUEST_ID]?: string }) | undefined)?.[REQUEST_ID];
    opts.onAnswered?.(api);
    answerOnSocket(socket, api, typeof id === 'string' ? id : randomUUID());
  };
}

/**
 * CONNECT (a proxy tunnel request) is no method of this API. Without a listener node:http
 * would drop the connection without a word.
 */
export function installConnectHandler(server: Server, opts: Pick<ClientErrorOptions, 'onAnswered'> = {}): void {
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const api = Errors.connectNotAllowed();
    opts.onAnswered?.(api);
    answerOnSocket(socket, api);
  });
}
