/**
 * The logs of a real `smashsend serve`: an access line per request (info for errors, debug
 * for successes), a traffic summary while there is traffic, JSON or human-readable output.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { startServerProcess, type ServerProcess } from '../src/testing/server-process.js';

let sp: ServerProcess | null = null;
afterEach(async () => {
  await sp?.dispose();
  sp = null;
});

function jsonLines(out: string): Record<string, any>[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/** Polls the child's stdout until `find` matches (the child writes its logs synchronously, in order). */
async function waitFor<T>(find: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${sp?.stdout()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('logging', () => {
  it('an access line per request: debug for successes, info for errors, with ingest counts', async () => {
    sp = await startServerProcess({ env: { LOG_LEVEL: 'debug', LOG_FORMAT: 'json', LOG_SUMMARY_INTERVAL_MS: '0' } });
    const workspaceId = (await call(`${sp.url}/v1/api-keys/check`, { key: sp.key })).body.workspace.id;
    const h = (id: string) => ({ 'x-request-id': id });
    await call(`${sp.url}/v1/events`, { key: sp.key, body: ev({ messageId: 'log-1' }), headers: h('log-ok') });
    await call(`${sp.url}/v1/events`, { key: sp.key, body: ev({ messageId: 'log-1' }), headers: h('log-dup') });
    await call(`${sp.url}/v1/events`, { key: sp.key, body: ev({ event: 'bad name' }), headers: h('log-bad') });
    await call(`${sp.url}/v1/events/batch`, { key: sp.key, body: { events: [ev({ messageId: 'log-2' }), ev({ event: '' })] }, headers: h('log-batch') });
    await call(`${sp.url}/v1/contacts/by-email/secret%40example.com`, { key: sp.key, method: 'DELETE', headers: h('log-404') });
    await call(`${sp.url}/nope?token=abc`, { headers: h('log-route-404') });

    const byId = (id: string) => jsonLines(sp!.stdout()).find((l) => l.reqId === id && typeof l.status === 'number');
    const ok = await waitFor(() => byId('log-ok'), 'the 200 line');
    expect(ok).toMatchObject({ level: 20, method: 'POST', route: '/v1/events', status: 200, workspace: workspaceId, accepted: 1, duplicate: 0, rejected: 0 });
    expect(typeof ok.ms).toBe('number');
    expect(ok.msg).toMatch(/^POST \/v1\/events 200 [\d.]+ ms$/);
    expect(await waitFor(() => byId('log-dup'), 'dup')).toMatchObject({ level: 20, status: 200, accepted: 0, duplicate: 1 });
    expect(await waitFor(() => byId('log-bad'), 'bad')).toMatchObject({ level: 30, status: 400, code: 'INVALID_EVENT_NAME', rejected: 1, workspace: workspaceId });
    expect(await waitFor(() => byId('log-batch'), 'batch')).toMatchObject({ level: 20, status: 207, route: '/v1/events/batch', accepted: 1, duplicate: 0, rejected: 1 });
    // Route patterns, not URLs: no email, no query string in the log.
    const notFound = await waitFor(() => byId('log-404'), '404');
    expect(notFound).toMatchObject({ level: 30, status: 404, route: '/v1/contacts/by-email/:email', code: 'NOT_FOUND' });
    const unrouted = await waitFor(() => byId('log-route-404'), 'unrouted');
    expect(unrouted).toMatchObject({ level: 30, status: 404, route: null, path: '/nope', code: 'NOT_FOUND' });
    expect(sp.stdout()).not.toContain('secret');
    expect(sp.stdout()).not.toContain('token=abc');
  });

  it('at info, successes are not logged, errors are; a traffic summary comes while there is traffic', async () => {
    sp = await startServerProcess({ env: { LOG_LEVEL: 'info', LOG_FORMAT: 'json', LOG_SUMMARY_INTERVAL_MS: '200' } });
    await call(`${sp.url}/v1/events`, { key: sp.key, body: ev({ messageId: 's-1' }), headers: { 'x-request-id': 'quiet-ok' } });
    await call(`${sp.url}/v1/events`, { key: sp.key, body: ev({ messageId: 's-1' }) });
    await call(`${sp.url}/v1/events`, { key: sp.key, body: ev({ event: '' }) });
    await call(`${sp.url}/v1/events`, { key: 'sk_live_wrong', body: ev(), headers: { 'x-request-id': 'loud-401' } });
    await waitFor(() => jsonLines(sp!.stdout()).find((l) => l.reqId === 'loud-401' && l.status === 401), 'the 401 line');
    expect(jsonLines(sp.stdout()).find((l) => l.reqId === 'quiet-ok')).toBeUndefined();

    // The requests may straddle an interval: add the summaries up until they cover all three.
    const summaries = () => jsonLines(sp!.stdout()).filter((l) => /^ingested /.test(l.msg ?? ''));
    const sum = (k: string) => summaries().reduce((a, l) => a + l[k], 0);
    await waitFor(() => (sum('ingested') >= 3 ? true : undefined), 'traffic summaries covering the three events');
    expect({ ingested: sum('ingested'), accepted: sum('accepted'), duplicate: sum('duplicate'), rejected: sum('rejected') }).toEqual({
      ingested: 3,
      accepted: 1,
      duplicate: 1,
      rejected: 1,
    });
    for (const l of summaries()) {
      expect(l.level).toBe(30);
      expect(l.msg).toMatch(/^ingested \d+ events \(\d+ rejected, \d+ duplicate\), processed \d+, queue \d+, lag \d+\.\d s$/);
      expect(l.msg).toContain(`ingested ${l.ingested} events (${l.rejected} rejected, ${l.duplicate} duplicate)`);
    }
  });

  it('LOG_FORMAT=pretty prints human-readable lines even when stdout is not a TTY', async () => {
    sp = await startServerProcess({ env: { LOG_LEVEL: 'info', LOG_FORMAT: 'pretty', LOG_SUMMARY_INTERVAL_MS: '0' } });
    await call(`${sp.url}/nope`);
    const line = await waitFor(() => sp!.stdout().split('\n').find((l) => l.includes('GET /nope 404')), 'the pretty 404 line');
    expect(line).toMatch(/INFO/);
    expect(line.startsWith('{')).toBe(false);
  });
});
