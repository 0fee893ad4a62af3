/**
 * Issue #15 item 4: SIGTERM while a client trickles its body (or its headers) used to hang
 * until the 15 s force-exit and exit 1. Now the drain has a deadline (SHUTDOWN_DRAIN_MS): the
 * slow requests are answered 503 and cut, requests already received are answered, exit 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { openRaw } from '../src/testing/raw-http.js';
import { startServerProcess, type ServerProcess } from '../src/testing/server-process.js';

let sp: ServerProcess;

beforeAll(async () => {
  sp = await startServerProcess({ env: { SHUTDOWN_DRAIN_MS: '1000', RATE_LIMIT_SINGLE_PER_MIN: '100000' } });
});
afterAll(async () => {
  await sp.dispose();
});

describe('SIGTERM with slow clients (child process)', () => {
  it('answers the slow ones 503, finishes the rest, and exits 0', async () => {
    const host = `127.0.0.1:${sp.port}`;
    const body = JSON.stringify(ev({ messageId: 'slow-at-shutdown' }));
    const slowBody = await openRaw(
      sp.url,
      `POST /v1/events HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${sp.key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Request-Id: slow-1\r\n\r\n${body.slice(0, 8)}`,
    );
    const slowHeaders = await openRaw(sp.url, `GET /health HTTP/1.1\r\nHost: ${host}\r\nX-Never-Ends: `);
    // A request that completes normally while the server drains.
    const normal = call(`${sp.url}/v1/events`, { key: sp.key, body: ev({ messageId: 'normal-at-shutdown' }) });
    expect((await normal).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));

    const code = await sp.stop();
    expect(code).toBe(0);
    expect(sp.stdout() + '').not.toContain('shutdown timed out');

    const r = await slowBody.response(1000);
    expect(r.status, r.text).toBe(503);
    expect(r.headers['content-type']).toContain('application/json');
    expect(r.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Server is shutting down, please retry', code: 'SERVICE_UNAVAILABLE' });
    expect(r.headers['x-request-id']).toBe('slow-1');
    expect(r.headers['retry-after']).toBe('1');
    expect(r.closed).toBe(true);
    const h = await slowHeaders.response(1000);
    expect(h.status).toBe(503);
    expect(h.closed).toBe(true);
    slowBody.close();
    slowHeaders.close();

    // What was acknowledged is there after a restart.
    await sp.restart();
    expect((await call(`${sp.url}/v1/events/normal-at-shutdown`, { key: sp.key })).status).toBe(200);
  });
});
