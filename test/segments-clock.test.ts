/**
 * Window expiry on a controlled clock (no sleeping): the recheck timer is set for the moment
 * the n-th newest counted event leaves the window, and a newer event moves it later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let now = Date.UTC(2026, 0, 10, 12, 0, 0);
beforeAll(async () => {
  s = await startTestServer({ clock: () => now });
});
afterAll(async () => {
  await s.close();
});

const api = (path: string, body?: unknown) => call(`${s.url}${path}`, { key: s.key, ...(body !== undefined ? { body } : {}) });
const member = async (segId: string) => (await api(`/v1/segments/${segId}`)).body.segment.memberCount === 1;

describe('performed … count ≥ 2 within 5s on a controlled clock', () => {
  it('leaves when the 2nd newest purchase leaves the window; a newer purchase moves that moment', async () => {
    const seg = (await api('/v1/segments', { name: 'twice in 5s', rule: { performed: 'purchase', count: { gte: 2 }, within: '5s' } })).body.segment;
    const t0 = now;
    const buy = async (id: string) => {
      expect((await api('/v1/events', { event: 'purchase', identify: { email: 'k@example.com' }, messageId: id })).status).toBe(200);
      await s.drain();
    };
    await buy('p1');
    expect(await member(seg.id)).toBe(false);
    now = t0 + 1000;
    await buy('p2');
    expect(await member(seg.id)).toBe(true); // p1 and p2: the timer is at p1 + 5 s
    now = t0 + 3000;
    await buy('p3'); // now p2 is the 2nd newest: the exit moves to p2 + 5 s
    now = t0 + 5000;
    await s.drain();
    expect(await member(seg.id)).toBe(true); // p1 still counts (window inclusive)
    now = t0 + 5001;
    await s.drain();
    expect(await member(seg.id)).toBe(true); // p1 left, p2 and p3 remain
    now = t0 + 6000;
    await s.drain();
    expect(await member(seg.id)).toBe(true);
    now = t0 + 6001;
    await s.drain();
    expect(await member(seg.id)).toBe(false); // p2 left at the moment set for it
  });
});
