/**
 * HTTP at the socket level, for what fetch cannot send: malformed request lines, missing Host,
 * CONNECT, bodies that stall. Returns what the server wrote, parsed just enough for assertions.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: any;
  text: string;
  /** The server closed the connection (within the wait). */
  closed: boolean;
  /** Milliseconds from the first byte sent to the first byte of the response. */
  ms: number;
}

export function parseRaw(text: string): Omit<RawResponse, 'closed' | 'ms'> {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const bodyText = end < 0 ? '' : text.slice(end + 4);
  let body: any;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0), headers, body, text };
}

export interface OpenRequest {
  socket: Socket;
  write(data: string | Buffer): void;
  /** Resolves with the first response once it is complete (or the connection closes), or after `timeoutMs`. */
  response(timeoutMs?: number): Promise<RawResponse>;
  close(): void;
}

/** Opens a connection and sends `head` (and optionally part of a body); the test drives the rest. */
export async function openRaw(baseUrl: string, head: string | Buffer): Promise<OpenRequest> {
  const u = new URL(baseUrl);
  const socket = connect({ host: u.hostname, port: Number(u.port) });
  await new Promise<void>((res, rej) => {
    socket.once('connect', res);
    socket.once('error', rej);
  });
  let buf = Buffer.alloc(0);
  let closed = false;
  const t0 = Date.now();
  let firstByteAt = 0;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  socket.on('data', (d: Buffer) => {
    if (firstByteAt === 0) firstByteAt = Date.now();
    buf = Buffer.concat([buf, d]);
    wake();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    wake();
  });
  socket.write(head);
  const complete = () => {
    const text = buf.toString('utf8');
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const len = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
    return len !== null && Buffer.byteLength(text.slice(end + 4)) >= Number(len[1]);
  };
  return {
    socket,
    write: (data) => {
      if (!socket.destroyed) socket.write(data);
    },
    async response(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (!complete() && !closed && Date.now() < deadline) {
        await new Promise<void>((res) => {
          const t = setTimeout(res, Math.max(1, deadline - Date.now()));
          waiters.push(() => {
            clearTimeout(t);
            res();
          });
        });
      }
      // A response followed by a close: give the FIN a moment to arrive.
      if (complete() && !closed) {
        await new Promise<void>((res) => {
          const t = setTimeout(res, 300);
          waiters.push(() => {
            clearTimeout(t);
            res();
          });
        });
      }
      return { ...parseRaw(buf.toString('utf8')), closed, ms: firstByteAt ? firstByteAt - t0 : -1 };
    },
    close: () => socket.destroy(),
  };
}

/** Sends `data` on a fresh connection and returns the server's answer. */
export async function rawRequest(baseUrl: string, data: string | Buffer, timeoutMs = 5000): Promise<RawResponse> {
  const r = await openRaw(baseUrl, data);
  try {
    return await r.response(timeoutMs);
  } finally {
    r.close();
  }
}
