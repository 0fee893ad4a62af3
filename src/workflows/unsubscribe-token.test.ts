import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signUnsubscribeToken, unsubscribeTokenWorkspace, verifyUnsubscribeToken } from './unsubscribe-token.js';

const key = randomBytes(32);

describe('unsubscribe tokens', () => {
  it('round-trip, URL-safe and compact, with or without a run', () => {
    const t = signUnsubscribeToken(key, { workspaceId: 'ws_0123456789abcdef', contactId: 'ct_0123456789abcdef', runId: 'run_0123456789abcdef' });
    expect(t).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(t.length).toBeLessThan(120);
    expect(verifyUnsubscribeToken(key, t)).toEqual({ workspaceId: 'ws_0123456789abcdef', contactId: 'ct_0123456789abcdef', runId: 'run_0123456789abcdef' });
    expect(unsubscribeTokenWorkspace(t)).toBe('ws_0123456789abcdef');
    const noRun = signUnsubscribeToken(key, { workspaceId: 'ws_1', contactId: 'ct_1' });
    expect(verifyUnsubscribeToken(key, noRun)).toEqual({ workspaceId: 'ws_1', contactId: 'ct_1' });
  });

  it('a tampered, truncated, foreign-key or oversized token is null', () => {
    const t = signUnsubscribeToken(key, { workspaceId: 'ws_1', contactId: 'ct_1' });
    const [payload, mac] = t.split('.') as [string, string];
    const otherPayload = Buffer.from('1|ws_1|ct_2|', 'utf8').toString('base64url');
    expect(verifyUnsubscribeToken(key, `${otherPayload}.${mac}`)).toBeNull();
    const flipped = mac.slice(0, -2) + (mac.at(-2) === 'A' ? 'B' : 'A') + mac.at(-1);
    expect(verifyUnsubscribeToken(key, `${payload}.${flipped}`)).toBeNull();
    expect(verifyUnsubscribeToken(key, `${payload}.${mac.slice(0, 10)}`)).toBeNull();
    expect(verifyUnsubscribeToken(randomBytes(32), t)).toBeNull();
    expect(verifyUnsubscribeToken(key, 'x'.repeat(10_000))).toBeNull();
    expect(verifyUnsubscribeToken(key, '')).toBeNull();
    expect(verifyUnsubscribeToken(key, `${t}=`)).toBeNull();
    expect(unsubscribeTokenWorkspace('garbage')).toBeNull();
    expect(() => signUnsubscribeToken(key, { workspaceId: 'ws|1', contactId: 'c' })).toThrow();
  });
});
