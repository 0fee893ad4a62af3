/**
 * Segments with the real server process: a `within` window expires on time across a restart
 * (the recheck is a durable timer in the job queue), and the `segments` CLI.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../src/testing/eventually.js';
import { startServerProcess, type ServerProcess } from '../src/testing/server-process.js';
import { call } from '../src/testing/http.js';

let sp: ServerProcess;

beforeAll(async () => {
  sp = await startServerProcess({ env: { WORKER_POLL_MS: '50' } });
});
afterAll(async () => {
  await sp.dispose();
});

const api = (path: string, opts: { method?: string; body?: unknown } = {}) => call(`${sp.url}${path}`, { key: sp.key, ...opts });

async function segmentsOf(email: string): Promise<string[]> {
  const c = await api(`/v1/contacts/search?email=${encodeURIComponent(email)}`);
  if (!c.body.contact) return [];
  return (await api(`/v1/contacts/${c.body.contact.id}/segments`)).body.segments.map((s: { id: string }) => s.id);
}

describe('segments with the server process', () => {
  it('enters on the second purchase and leaves when the first falls out of a 5 s window, with the server restarted in between', async () => {
    const seg = (await api('/v1/segments', { body: { name: 'twice in 5s', rule: { performed: 'purchase', count: { gte: 2 }, within: '5s' } } })).body.segment;
    const t0 = Date.now();
    for (const m of ['a', 'b']) expect((await api('/v1/events', { body: { event: 'purchase', identify: { email: 'r@example.com' }, messageId: `p-${m}` } })).status).toBe(200);
    await eventually(async () => (await segmentsOf('r@example.com')).includes(seg.id), { timeoutMs: 4000, intervalMs: 50 });
    await sp.stop();
    await sp.restart();
    await eventually(async () => !(await segmentsOf('r@example.com')).includes(seg.id), { timeoutMs: 15_000, intervalMs: 100 });
    const left = Date.now() - t0;
    expect(left).toBeGreaterThanOrEqual(5000);
    expect(left).toBeLessThan(5000 + 5000);
  });

  it('smashsend segments apply, list and show', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'segments-cli-'));
    const file = join(dir, 'segments.json');
    writeFileSync(file, JSON.stringify([{ name: 'Premium', rule: { property: 'contact.plan', op: 'eq', value: 'premium' } }]));
    const applied = sp.cli(['segments', 'apply', file]);
    expect(applied.status, applied.stderr).toBe(0);
    const id = /Created (seg_[A-Za-z0-9_-]+)/.exec(applied.stdout)![1]!;
    // Applying again updates the same segment (matched by name).
    writeFileSync(file, JSON.stringify({ name: 'Premium', rule: { property: 'contact.plan', op: 'in', value: ['premium', 'pro'] } }));
    expect(sp.cli(['segments', 'apply', file]).stdout).toContain(`Updated ${id}`);
    const listed = sp.cli(['segments', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\tPremium\\t(building|ready)\\t0\\t`));
    const shown = JSON.parse(sp.cli(['segments', 'show', id]).stdout);
    expect(shown).toMatchObject({ id, rule: { op: 'in' }, build: { processed: expect.any(Number), total: expect.any(Number) } });
    writeFileSync(file, JSON.stringify({ name: 'Bad', rule: { property: 'contact.plan', op: 'nope' } }));
    const bad = sp.cli(['segments', 'apply', file]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('rule.op');
    // The API sees what the CLI made.
    expect((await api(`/v1/segments/${id}`)).body.segment.name).toBe('Premium');
  });
});
