/**
 * WorkspaceModes on a real store, its KeyStore wrapped to count queries: which workspaces are
 * test siblings, and a live workspace's sibling, are asked of the store once per process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../storage/open-store.js';
import type { Store } from '../storage/ports.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { isTestKey, liveWorkspaceIdOf, WorkspaceModes } from './workspace-modes.js';

let db: TestDatabase;
let store: Store;

beforeAll(async () => {
  db = await createTestDatabase();
  store = await openStore(db.url, {});
  await store.migrate();
});
afterAll(async () => {
  await store?.close();
  await db?.drop();
});

describe('WorkspaceModes', () => {
  it('tells test siblings from live workspaces, creating a sibling on first need, each asked of the store once', async () => {
    const calls = { find: 0, ensure: 0 };
    const modes = new WorkspaceModes({
      findWorkspace: (id) => (calls.find++, store.keys.findWorkspace(id)),
      ensureTestWorkspace: (id, now) => (calls.ensure++, store.keys.ensureTestWorkspace(id, now)),
    });
    const liveId = (await store.keys.ensureWorkspace('acme', Date.now())).id;
    expect(await modes.isTest(liveId)).toBe(false);
    expect(await modes.isTest(liveId)).toBe(false);
    const testId = await modes.testWorkspaceOf(liveId);
    expect(testId).not.toBe(liveId);
    expect(await modes.testWorkspaceOf(liveId)).toBe(testId);
    expect(await modes.isTest(testId)).toBe(true);
    expect(calls).toEqual({ find: 1, ensure: 1 });
    // Another process (a fresh cache) finds the same sibling, and knows it for a test one.
    const other = new WorkspaceModes(store.keys);
    expect(await other.isTest(testId)).toBe(true);
    expect(await other.testWorkspaceOf(liveId)).toBe(testId);
    expect(await other.isTest('ws_unknown')).toBe(false);
  });

  it('knows test keys by prefix, and a key\'s live workspace', () => {
    expect(['sk_test_x', 'pk_test_x', 'sk_live_x', 'pk_live_x'].map(isTestKey)).toEqual([true, true, false, false]);
    expect(liveWorkspaceIdOf({ workspaceId: 'ws_t', liveWorkspaceId: 'ws_l' })).toBe('ws_l');
    expect(liveWorkspaceIdOf({ workspaceId: 'ws_l' })).toBe('ws_l');
  });
});
