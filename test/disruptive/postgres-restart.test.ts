/**
 * A real PostgreSQL restart (pg_ctlcluster restart) while the server takes load: requests in
 * the outage get 503 (never a false 200), service resumes by itself, and every acknowledged
 * event is there afterwards. Runs alone (vitest.disruptive.config.ts), after the main suites,
 * because it takes the whole cluster down for a moment.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/testing/eventually.js';
import { call, ev } from '../../src/testing/http.js';
import { startServerProcess, type ServerProcess } from '../../src/testing/server-process.js';
import { REDIS_URL, createTestDatabase, type PostgresTestDatabase } from '../../src/testing/test-database.js';

function pgctl(action: 'restart' | 'start'): void {
  const version = readdirSync('/etc/postgresql')[0]!;
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { stdio: 'ignore', timeout: 60_000 });
}

// It restarts the machine's PostgreSQL cluster, so it runs only where that is allowed:
// CI sets SMASHSEND_TEST_RESTART_POSTGRES=1 (.ci/run); on a developer machine it is skipped.
describe.skipIf(process.env.SMASHSEND_TEST_RESTART_POSTGRES !== '1')('PostgreSQL restart during load', () => {
  let db: PostgresTestDatabase;
  let sp: ServerProcess;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    sp = await startServerProcess({
      databaseUrl: db.url,
      env: { REDIS_URL, RATE_LIMIT_SINGLE_PER_MIN: '1000000', RATE_LIMIT_BATCH_PER_MIN: '1000000', LOG_LEVEL: 'error' },
    });
  });

  afterAll(async () => {
    await sp?.dispose();
    try {
      pgctl('start');
    } catch {
      // already running
    }
    await db?.drop();
  });

  it('loses no acknowledged event, answers 503 meanwhile, and recovers by itself', async () => {
    const acked: string[] = [];
    const statuses = new Map<number, number>();
    let stop = false;
    const senders = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const id = `rs-${w}-${i}`;
        try {
          const r = await call(`${sp.url}/v1/events`, { key: sp.key, body: ev({ messageId: id, identify: { email: `r${i % 20}@example.com`, traits: { i } } }) });
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          if (r.status === 200) acked.push(id);
          else if (r.status !== 503) throw new Error(`unexpected ${r.status}: ${r.text}`);
          else await new Promise((res) => setTimeout(res, 20));
        } catch (err) {
          if (String(err).includes('unexpected')) throw err;
          await new Promise((res) => setTimeout(res, 20)); // connection-level error: retry later
        }
      }
    });
    let before = 0;
    try {
      await eventually(() => acked.length >= 300, { timeoutMs: 20_000, intervalMs: 25, what: '300 acknowledged events' });
      before = acked.length;
      pgctl('restart');
      await eventually(() => acked.length >= before + 300, { timeoutMs: 40_000, intervalMs: 25, what: '300 more after the restart' });
    } finally {
      stop = true;
      await Promise.all(senders);
    }
    expect(acked.length).toBeGreaterThanOrEqual(before + 300); // resumed by itself
    expect([...statuses.keys()].every((s) => s === 200 || s === 503)).toBe(true);
    const health = await call(`${sp.url}/health`);
    expect(health.status).toBe(200);

    const missing: string[] = [];
    for (const id of acked) if ((await call(`${sp.url}/v1/events/${id}`, { key: sp.key })).status !== 200) missing.push(id);
    expect(missing).toEqual([]);
  });
});
