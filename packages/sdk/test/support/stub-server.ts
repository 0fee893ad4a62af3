/**
 * A tiny node:http server for unit tests that need to force what the real server will not do on
 * demand (500s, dropped connections, slow answers). It speaks the batch endpoint's response shape
 * and deduplicates by messageId like the real one, so "stored exactly once" can be checked.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  raw: string;
  body: unknown;
}

export type Handler = (req: RecordedRequest, res: ServerResponse, stub: StubServer) => void | Promise<void>;

export class StubServer {
  readonly requests: RecordedRequest[] = [];
  /** messageId → times stored (should never exceed 1). */
  readonly stored = new Map<string, number>();
  handler: Handler = (req, res, stub) => stub.acceptBatch(req, res);
  private server: Server | undefined;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (raw += c));
      req.on('end', () => {
        let body: unknown = undefined;
        try {
          body = raw ? JSON.parse(raw) : undefined;
        } catch {
          body = raw;
        }
        const rec: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw, body };
        this.requests.push(rec);
        Promise.resolve(this.handler(rec, res, this)).catch((err) => {
          res.statusCode = 500;
          res.end(String(err));
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  /** Stops listening and drops open connections (an outage). */
  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-request-id': `req_${this.requests.length}`, ...headers });
    res.end(JSON.stringify(body));
  }

  /** The real server's batch answer: every item accepted, or duplicate when its messageId was seen. */
  acceptBatch(req: RecordedRequest, res: ServerResponse, rejectIf?: (event: Record<string, unknown>) => string | undefined): void {
    const events = ((req.body as { events?: Array<Record<string, unknown>> })?.events ?? []) as Array<Record<string, unknown>>;
    const ok: Array<{ index: number; messageId: string; status: string }> = [];
    const errors: Array<{ index: number; errors: Array<{ code: string; message: string }> }> = [];
    events.forEach((e, index) => {
      const bad = rejectIf?.(e);
      if (bad) {
        errors.push({ index, errors: [{ code: bad, message: `bad: ${bad}` }] });
        return;
      }
      const id = String(e.messageId ?? `msg_${index}`);
      if (this.stored.has(id)) ok.push({ index, messageId: id, status: 'duplicate' });
      else {
        this.stored.set(id, 1);
        ok.push({ index, messageId: id, status: 'accepted' });
      }
    });
    const accepted = ok.filter((o) => o.status === 'accepted').length;
    const body = { accepted, failed: errors.length, duplicated: ok.length - accepted, events: ok, errors };
    if (ok.length === 0 && errors.length > 0) {
      this.json(res, 400, { statusCode: 400, error: 'Bad Request', message: 'All events failed', code: 'ALL_EVENTS_FAILED', ...body });
    } else this.json(res, errors.length ? 207 : 200, body);
  }

  batchRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.url === '/v1/events/batch');
  }
}

export async function startStub(handler?: Handler): Promise<StubServer> {
  const s = new StubServer();
  if (handler) s.handler = handler;
  await s.start();
  return s;
}
