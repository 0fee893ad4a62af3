/**
 * The KeyStore port (keys/key-store.port.ts): workspaces, and API keys created, found by
 * hash and revoked. Run on every adapter by runStoreContract (store.contract.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../ports.js';
import { T0, storeFixture, type ContractSuite } from './contract-fixture.js';

export const keysContract: ContractSuite = {
  port: 'src/keys/key-store.port.ts',
  run(open) {
    describe('keys', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      storeFixture(open, (f) => {
        store = f.store;
        wsA = f.wsA;
        wsB = f.wsB;
      });

      const hash1 = 'a'.repeat(64);
      const hash2 = 'b'.repeat(64);

      it('ensureWorkspace is idempotent by name, and says whether it created the workspace', async () => {
        const again = await store.keys.ensureWorkspace('alpha', T0 + 5);
        expect(again).toEqual({ id: wsA, name: 'alpha', created: false });
        expect(wsB).not.toBe(wsA);
        const fresh = await store.keys.ensureWorkspace('gamma', T0 + 6);
        expect(fresh).toEqual({ id: expect.stringMatching(/^ws_/), name: 'gamma', created: true });
      });

      it('creates, lists and finds keys by hash', async () => {
        const k1 = await store.keys.createKey({ workspaceId: wsA, name: 'first', hash: hash1, prefix: 'sk_live_aaaa', now: T0 + 1 });
        const k2 = await store.keys.createKey({ workspaceId: wsB, name: 'second', hash: hash2, prefix: 'sk_live_bbbb', now: T0 + 2 });
        expect(k1).toEqual({
          id: k1.id,
          workspaceId: wsA,
          workspaceName: 'alpha',
          name: 'first',
          prefix: 'sk_live_aaaa',
          hash: hash1,
          createdAt: T0 + 1,
          revokedAt: null,
          lastUsedAt: null,
        });
        expect(k2.id).not.toBe(k1.id);
        expect(await store.keys.listKeys()).toEqual([k1, k2]);
        expect(await store.keys.listActiveKeys()).toEqual(expect.arrayContaining([k1, k2]));
        expect(await store.keys.countActiveKeys()).toBe(2);
        expect(await store.keys.findActiveKeyByHash(hash2)).toEqual(k2);
        expect(await store.keys.findActiveKeyByHash('c'.repeat(64))).toBeNull();
      });

      it('revokes by id or by hash, keeping the first revocation time', async () => {
        const k1 = await store.keys.createKey({ workspaceId: wsA, name: 'first', hash: hash1, prefix: 'p1', now: T0 });
        const k2 = await store.keys.createKey({ workspaceId: wsA, name: 'second', hash: hash2, prefix: 'p2', now: T0 + 1 });
        expect(await store.keys.revokeKey(k1.id, T0 + 10)).toEqual({ ...k1, revokedAt: T0 + 10 });
        expect(await store.keys.revokeKey(hash2, T0 + 20)).toEqual({ ...k2, revokedAt: T0 + 20 });
        expect(await store.keys.revokeKey(k1.id, T0 + 30)).toEqual({ ...k1, revokedAt: T0 + 10 });
        expect(await store.keys.revokeKey('key_unknown', T0)).toBeNull();
        expect(await store.keys.findActiveKeyByHash(hash1)).toBeNull();
        expect(await store.keys.listActiveKeys()).toEqual([]);
        expect(await store.keys.countActiveKeys()).toBe(0);
        expect((await store.keys.listKeys()).map((k) => k.revokedAt)).toEqual([T0 + 10, T0 + 20]);
      });

      it('test siblings: one per live workspace, never found by name, their keys named after the live workspace', async () => {
        const t1 = await store.keys.ensureTestWorkspace(wsA, T0);
        expect(t1).toEqual({ id: expect.stringMatching(/^ws_/), name: expect.any(String), created: true });
        expect(t1.id).not.toBe(wsA);
        expect(await store.keys.ensureTestWorkspace(wsA, T0 + 1)).toEqual({ ...t1, created: false });
        const tB = await store.keys.ensureTestWorkspace(wsB, T0);
        expect(tB.id).not.toBe(t1.id);
        expect(await store.keys.findWorkspace(t1.id)).toEqual({ id: t1.id, name: t1.name, liveWorkspaceId: wsA });
        expect(await store.keys.findWorkspace(wsA)).toEqual({ id: wsA, name: 'alpha', liveWorkspaceId: null });
        expect(await store.keys.findWorkspace('ws_unknown')).toBeNull();
        // A name finds live workspaces only: the sibling's own name makes a new live workspace.
        const byName = await store.keys.ensureWorkspace(t1.name, T0 + 2).catch((e: Error) => e);
        expect(byName instanceof Error ? byName.message : byName.id).not.toBe(t1.id);
        // A key of the sibling: the live workspace's name, and which live workspace it is.
        const k = await store.keys.createKey({ workspaceId: t1.id, name: 'tk', hash: hash1, prefix: 'sk_test_aaaa', now: T0 + 3 });
        expect(k).toMatchObject({ workspaceId: t1.id, workspaceName: 'alpha', liveWorkspaceId: wsA });
        expect(await store.keys.findActiveKeyByHash(hash1)).toEqual(k);
        expect(await store.keys.revokeKey(k.id, T0 + 4)).toEqual({ ...k, revokedAt: T0 + 4 });
      });

      it('records when keys were last used, never moving a time back', async () => {
        const k1 = await store.keys.createKey({ workspaceId: wsA, name: 'first', hash: hash1, prefix: 'p1', now: T0 });
        const k2 = await store.keys.createKey({ workspaceId: wsB, name: 'second', hash: hash2, prefix: 'p2', now: T0 + 1 });
        await store.keys.recordKeyUse([]);
        await store.keys.recordKeyUse([{ id: k1.id, at: T0 + 100 }, { id: k2.id, at: T0 + 50 }, { id: 'key_unknown', at: T0 }]);
        await store.keys.recordKeyUse([{ id: k1.id, at: T0 + 60 }]); // an older write arriving late
        expect((await store.keys.listKeys()).map((k) => k.lastUsedAt)).toEqual([T0 + 100, T0 + 50]);
        expect((await store.keys.findActiveKeyByHash(hash1))?.lastUsedAt).toBe(T0 + 100);
      });
    });
  },
};
