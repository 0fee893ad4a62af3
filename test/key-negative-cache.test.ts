/**
 * Issue #15 item 14: a flood of unknown `sk_` keys must not become database load. The key
 * store is wrapped to count lookups (observable behaviour: what the server asks its store).
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintKey } from '../src/cli/context.js';
import { composeServer } from '../src/cli/compose.js';
import { loadConfig } from '../src/config/load-config.js';
import type { BuiltServer } from '../src/http/build-server.js';
import { hashKey } from '../src/keys/key-cache.js';
import type { KeyStore } from '../src/keys/key-store.port.js';
import { openStore } from '../src/storage/open-store.js';
import type { Store } from '../src/storage/ports.js';
import { createTestDatabase, REDIS_URL, USES_REDIS, type TestDatabase } from '../src/testing/test-database.js';
import { call, ev } from '../src/testing/http.js';

let db: TestDatabase;
let store: Store;
let server: BuiltServer;
let url: string;
let lookups = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: db.url, RATE_LIMIT_SINGLE_PER_MIN: '1000000', ...(USES_REDIS ? { REDIS_URL } : {}) });
  store = await openStore(config.databaseUrl, {});
  await store.migrate();
  await mintKey(store, 'default', 'test');
  const keys: KeyStore = {
    ensureWorkspace: (...a) => store.keys.ensureWorkspace(...a),
    ensureTestWorkspace: (...a) => store.keys.ensureTestWorkspace(...a),
    findWorkspace: (id) => store.keys.findWorkspace(id),
    createKey: (...a) => store.keys.createKey(...a),
    listKeys: () => store.keys.listKeys(),
    listActiveKeys: () => store.keys.listActiveKeys(),
    findActiveKeyByHash: (h) => {
      lookups++;
      return store.keys.findActiveKeyByHash(h);
    },
    revokeKey: (...a) => store.keys.revokeKey(...a),
    countActiveKeys: () => store.keys.countActiveKeys(),
    recordKeyUse: (u) => store.keys.recordKeyUse(u),
  };
  const counted: Store = {
    capabilities: store.capabilities,
    keys,
    events: store.events,
    queue: store.queue,
    contacts: store.contacts,
    jobs: store.jobs,
    secrets: store.secrets,
    identity: store.identity,
    workflows: store.workflows,
    deliveries: store.deliveries,
    segments: store.segments,
    users: store.users,
    activity: store.activity,
    catalog: store.catalog,
    trackingPlans: store.trackingPlans,
    migrate: () => store.migrate(),
    ping: () => store.ping(),
    close: () => store.close(),
  };
  server = await composeServer({ config, store: counted, log: pino({ level: 'silent' }) });
  url = await server.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await server.close();
  await store.close();
  await db.drop();
});

describe('unknown sk_ keys', () => {
  it('200 requests with one unknown key, 50 at a time, cost at most one store lookup, and are all 401 Invalid API key', async () => {
    const key = `sk_live_${randomBytes(24).toString('base64url')}`;
    lookups = 0;
    for (let round = 0; round < 4; round++) {
      const rs = await Promise.all(Array.from({ length: 50 }, () => call(`${url}/v1/events`, { key, body: ev() })));
      for (const r of rs) {
        expect(r.status).toBe(401);
        expect(r.body).toMatchObject({ code: 'INVALID_API_KEY', message: 'Invalid API key' });
      }
    }
    expect(lookups).toBeLessThanOrEqual(1);
  });

  it('a flood of distinct unknown keys is held to a bounded number of lookups per second', async () => {
    lookups = 0;
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) {
      await Promise.all(Array.from({ length: 50 }, () => call(`${url}/v1/events`, { key: `sk_live_${randomBytes(24).toString('base64url')}`, body: ev() })));
    }
    const seconds = Math.ceil((Date.now() - t0) / 1000);
    expect(lookups).toBeLessThan(500);
    expect(lookups).toBeLessThanOrEqual(50 * (seconds + 1));
  });

  it('a key created after a miss for it works within 5 s (SPEC.md)', async () => {
    const secret = `sk_live_${randomBytes(24).toString('base64url')}`;
    expect((await call(`${url}/v1/events`, { key: secret, body: ev() })).status).toBe(401);
    const ws = await store.keys.ensureWorkspace('late', Date.now());
    await store.keys.createKey({ workspaceId: ws.id, name: 'late', hash: hashKey(secret), prefix: secret.slice(0, 12), now: Date.now() });
    const t0 = Date.now();
    let status = 0;
    while (Date.now() - t0 < 5000) {
      status = (await call(`${url}/v1/events`, { key: secret, body: ev({ messageId: 'late-key' }) })).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });
});
