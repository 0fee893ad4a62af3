/**
 * PostgreSQL-only behaviour below the port: migrations, failure mapping against a real
 * server, recovery after lost connections, a corrupt row. The port's behaviour itself is
 * in the contract suites (contract/*.contract.ts).
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '../shared/migrations.js';
import { eventually } from '../../testing/eventually.js';
import { StoreUnavailableError } from '../ports.js';
import { PostgresStore } from './postgres-store.js';
import { SKIP_POSTGRES, createTestDatabase, createTestSchema, type PostgresTestDatabase } from '../../testing/test-database.js';

const T0 = Date.UTC(2024, 0, 15, 12, 0, 0);

const until = (what: string, check: () => Promise<boolean> | boolean) => eventually(check, { timeoutMs: 10_000, intervalMs: 20, what });

describe('postgres store without a server', () => {
  it('reports an unreachable server as StoreUnavailableError', async () => {
    // Port 1 on loopback: refused at once.
    const store = new PostgresStore('postgres://postgres@127.0.0.1:1/nothing');
    try {
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(
        store.events.append([{ workspaceId: 'w', messageId: 'm', event: 'e', email: 'a@b.co', properties: null, traits: null, timestamp: T0 }], T0, 1000),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await store.close();
    }
  });

  it('keeps int8 parsing on its own pool, not pg-wide', () => {
    const store = new PostgresStore('postgres://postgres@127.0.0.1:1/nothing');
    expect(pg.types.getTypeParser(20, 'text')('123')).toBe('123');
    return store.close();
  });
});

describe.skipIf(SKIP_POSTGRES)('postgres store on a server', () => {
  let db: PostgresTestDatabase;
  const stores: PostgresStore[] = [];
  const drops: (() => Promise<void>)[] = [];

  async function freshStore(opts: ConstructorParameters<typeof PostgresStore>[1] = {}): Promise<{ store: PostgresStore; url: string; schema: string }> {
    const { schema, url, drop } = await createTestSchema(db);
    drops.push(drop);
    const store = new PostgresStore(url, opts);
    stores.push(store);
    return { store, url, schema };
  }

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });

  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of drops.splice(0)) await d();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('migrates once when several processes start at once, then has nothing to apply', async () => {
    const { store, url } = await freshStore();
    const others = [1, 2, 3].map(() => new PostgresStore(url));
    stores.push(...others);
    const results = await Promise.all([store, ...others].map((s) => s.migrate()));
    expect(results.flatMap((r) => r.applied)).toEqual(readMigrations('postgres').map((m) => m.name));
    expect((await store.migrate()).applied).toEqual([]);
  });

  it('refuses a schema newer than this build knows', async () => {
    const { store, schema } = await freshStore();
    await store.migrate();
    await db.sql(`INSERT INTO ${schema}.schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)`);
    await expect(store.migrate()).rejects.toThrow(/newer than this build knows/);
  });

  it('does not call a missing database unavailable: it is a configuration error', async () => {
    const url = new URL(db.url);
    url.pathname = '/smashsend_no_such_database';
    const store = new PostgresStore(url.toString());
    stores.push(store);
    const err = await store.ping().catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(StoreUnavailableError);
    expect((err as { code?: string }).code).toBe('3D000');
  });

  it('fails a statement whose session is killed with StoreUnavailableError, then carries on', async () => {
    const { store, schema } = await freshStore();
    await store.migrate();
    const item = { workspaceId: 'w', messageId: 'blocked', event: 'e', email: 'a@b.co', properties: null, traits: null, timestamp: T0 };
    // Another session holds the ledger row, so the append waits on it; then its session is killed.
    const blocker = new pg.Client({ connectionString: db.url });
    blocker.on('error', () => {});
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`INSERT INTO ${schema}.dedup (workspace_id, message_id, accepted_at) VALUES ('w', 'blocked', 0)`);
      const pending = store.events.append([item], T0, 1000).catch((e: unknown) => e);
      const waiting = "FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'";
      await until('the append to wait on the lock', async () => (await db.scalar(`SELECT COUNT(*) ${waiting}`, [db.name])) === 1);
      await db.sql(`SELECT pg_terminate_backend(pid) ${waiting}`, [db.name]);
      expect(await pending).toBeInstanceOf(StoreUnavailableError);
      await blocker.query('ROLLBACK');
    } finally {
      await blocker.end();
    }
    expect(await store.events.append([item], T0, 1000)).toEqual(['accepted']);
  });

  it('reports idle sessions dying through onError, without crashing, and reconnects', async () => {
    const errors: unknown[] = [];
    const { store } = await freshStore({ onError: (e) => errors.push(e) });
    await store.migrate();
    await Promise.all([store.ping(), store.ping(), store.ping()]);
    await db.sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
    await until('the pool to report its dead sessions', () => errors.length > 0);
    // A request may still draw a session whose death the pool has not heard of yet: that one
    // fails as StoreUnavailableError (a 503), never a crash, and the pool recovers by itself.
    await until('the pool to reconnect', () => store.ping().then(() => true, (e: Error) => {
      expect(e.name).toBe('StoreUnavailableError');
      return false;
    }));
    await expect(store.ping()).resolves.toBeUndefined();
    expect(await store.keys.countActiveKeys()).toBe(0);
  });

  it('isolates a batch group whose contact row is corrupt', async () => {
    const { store, schema } = await freshStore();
    await store.migrate();
    const ws = (await store.keys.ensureWorkspace('w', T0)).id;
    await store.contacts.upsert(ws, { email: 'bad@example.com' }, T0);
    await db.sql(`UPDATE ${schema}.contacts SET clocks = 'not json' WHERE email = 'bad@example.com'`);
    const base = { workspaceId: ws, event: 'e', properties: null, timestamp: T0 };
    await store.events.append(
      [
        { ...base, messageId: 'm1', email: 'bad@example.com', traits: '{"a":1}' },
        { ...base, messageId: 'm2', email: 'good@example.com', traits: '{"a":2}' },
      ],
      T0,
      1000,
    );
    const claimed = await store.queue.claim({ workerId: 'w1', limit: 10, now: T0, leaseMs: 1000 });
    const results = await store.queue.applyBatch({
      workerId: 'w1',
      now: T0,
      groups: claimed.map((c) => ({ workspaceId: ws, email: c.email, events: [{ seq: c.seq, patch: JSON.parse(c.traitsJson!), timestamp: c.timestamp }] })),
    });
    expect(results[0]).toHaveProperty('error');
    expect(results[1]).toMatchObject({ processed: [claimed[1]!.seq] });
    expect((await store.contacts.findByEmail(ws, 'good@example.com'))!.properties.a).toBe(2);
    expect((await store.events.get(ws, 'm1'))!.status).toBe('queued');
  });
});
