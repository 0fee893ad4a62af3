/**
 * The UserStore port (users/user-store.port.ts): users, memberships, sessions and one-time
 * setup tokens. Run on every adapter by runStoreContract (store.contract.ts).
 */
import { describe, expect, it } from 'vitest';
import { PURGE_BATCH } from '../../users/user-store.port.js';
import type { Store } from '../ports.js';
import { T0, storeFixture, type ContractSuite } from './contract-fixture.js';

export const usersContract: ContractSuite = {
  port: 'src/users/user-store.port.ts',
  run(open) {
    describe('users', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      storeFixture(open, (f) => {
        store = f.store;
        wsA = f.wsA;
        wsB = f.wsB;
      });

      it('creates a user once per email, with its workspaces by name', async () => {
        expect(await store.users.countUsers()).toBe(0);
        const { user, created } = await store.users.createUser({ email: 'ann@example.com', passwordHash: 'h1', workspaceIds: [wsB, wsA], now: T0 });
        expect(created).toBe(true);
        expect(user).toEqual({
          id: expect.stringMatching(/^usr_/),
          email: 'ann@example.com',
          passwordHash: 'h1',
          createdAt: T0,
          workspaces: [
            { id: wsA, name: 'alpha' },
            { id: wsB, name: 'beta' },
          ],
        });
        const again = await store.users.createUser({ email: 'ann@example.com', passwordHash: 'other', workspaceIds: [], now: T0 + 1 });
        expect(again).toEqual({ user, created: false });
        expect(await store.users.countUsers()).toBe(1);
        expect(await store.users.getUser(user.id)).toEqual(user);
        expect(await store.users.findUserByEmail('ann@example.com')).toEqual(user);
        expect(await store.users.findUserByEmail('bob@example.com')).toBeNull();
        expect(await store.users.getUser('usr_unknown')).toBeNull();
      });

      it('adds memberships and sets passwords', async () => {
        const { user } = await store.users.createUser({ email: 'ann@example.com', passwordHash: null, workspaceIds: [wsA], now: T0 });
        expect(user.passwordHash).toBeNull();
        const more = await store.users.addMemberships(user.id, [wsA, wsB]);
        expect(more?.workspaces.map((w) => w.id)).toEqual([wsA, wsB]);
        expect(await store.users.addMemberships('usr_unknown', [wsA])).toBeNull();
        await store.users.setPassword(user.id, 'h2', T0 + 5);
        expect((await store.users.getUser(user.id))?.passwordHash).toBe('h2');
      });

      it('finds live sessions only, and switches them between the user\'s workspaces', async () => {
        const { user } = await store.users.createUser({ email: 'ann@example.com', passwordHash: 'h', workspaceIds: [wsA], now: T0 });
        await store.users.createSession({ tokenHash: 's1', userId: user.id, workspaceId: wsA, now: T0, expiresAt: T0 + 1000 });
        const found = await store.users.findSession('s1', T0 + 10);
        expect(found).toEqual({ session: { userId: user.id, workspaceId: wsA, createdAt: T0, expiresAt: T0 + 1000 }, user });
        expect(await store.users.findSession('s1', T0 + 1000)).toBeNull(); // expired
        expect(await store.users.findSession('nope', T0)).toBeNull();
        // Not a member of beta: refused; once a member, allowed.
        expect(await store.users.switchWorkspace('s1', wsB)).toBe(false);
        await store.users.addMemberships(user.id, [wsB]);
        expect(await store.users.switchWorkspace('s1', wsB)).toBe(true);
        expect((await store.users.findSession('s1', T0))?.session.workspaceId).toBe(wsB);
        expect(await store.users.switchWorkspace('nope', wsB)).toBe(false);
        await store.users.deleteSession('s1');
        expect(await store.users.findSession('s1', T0)).toBeNull();
      });

      it('keeps the Test mode switch per session (absent when off)', async () => {
        const { user } = await store.users.createUser({ email: 'tm@example.com', passwordHash: 'h', workspaceIds: [wsA], now: T0 });
        await store.users.createSession({ tokenHash: 't1', userId: user.id, workspaceId: wsA, now: T0, expiresAt: T0 + 1000 });
        await store.users.createSession({ tokenHash: 't2', userId: user.id, workspaceId: wsA, now: T0, expiresAt: T0 + 1000 });
        expect(await store.users.setTestMode('t1', true)).toBe(true);
        expect((await store.users.findSession('t1', T0))?.session).toEqual({ userId: user.id, workspaceId: wsA, createdAt: T0, expiresAt: T0 + 1000, testMode: true });
        expect((await store.users.findSession('t2', T0))?.session.testMode).toBeUndefined();
        expect(await store.users.setTestMode('t1', false)).toBe(true);
        expect((await store.users.findSession('t1', T0))?.session).not.toHaveProperty('testMode');
        expect(await store.users.setTestMode('nope', true)).toBe(false);
      });

      it('a session pointing at a workspace the user does not belong to is not found', async () => {
        const { user } = await store.users.createUser({ email: 'ann@example.com', passwordHash: 'h', workspaceIds: [wsA], now: T0 });
        await store.users.createSession({ tokenHash: 's2', userId: user.id, workspaceId: wsB, now: T0, expiresAt: T0 + 1000 });
        expect(await store.users.findSession('s2', T0)).toBeNull();
      });

      it('purgeExpired deletes the sessions and setup tokens expired by then, at most PURGE_BATCH sessions a call', async () => {
        const { user } = await store.users.createUser({ email: 'ann@example.com', passwordHash: 'h', workspaceIds: [wsA], now: T0 });
        await store.users.createSession({ tokenHash: 'old', userId: user.id, workspaceId: wsA, now: T0, expiresAt: T0 + 100 });
        await store.users.createSession({ tokenHash: 'edge', userId: user.id, workspaceId: wsA, now: T0, expiresAt: T0 + 200 });
        await store.users.createSession({ tokenHash: 'live', userId: user.id, workspaceId: wsA, now: T0, expiresAt: T0 + 1000 });
        await store.users.createSetupToken('t-old', T0, T0 + 100);
        await store.users.createSetupToken('t-live', T0, T0 + 1000);
        expect(await store.users.purgeExpired(T0 + 200)).toEqual({ sessions: 2 });
        expect(await store.users.purgeExpired(T0 + 200)).toEqual({ sessions: 0 });
        // Gone, not merely expired: still unfound when asked about a time before their expiry.
        expect(await store.users.findSession('old', T0)).toBeNull();
        expect(await store.users.findSession('edge', T0)).toBeNull();
        expect(await store.users.findSession('live', T0 + 200)).not.toBeNull();
        expect(await store.users.consumeSetupToken('t-old', T0)).toBe(false);
        expect(await store.users.consumeSetupToken('t-live', T0 + 200)).toBe(true);

        const many = PURGE_BATCH + 5;
        for (let i = 0; i < many; i++) {
          await store.users.createSession({ tokenHash: `m${i}`, userId: user.id, workspaceId: wsA, now: T0, expiresAt: T0 + 300 + i });
        }
        expect(await store.users.purgeExpired(T0 + 10_000)).toEqual({ sessions: PURGE_BATCH });
        // The oldest go first.
        expect(await store.users.findSession(`m${many - 1}`, T0)).not.toBeNull();
        expect(await store.users.purgeExpired(T0 + 10_000)).toEqual({ sessions: 5 + 1 }); // the rest, and 'live'
      });

      it('a setup token is consumed once, and not after it expires', async () => {
        await store.users.createSetupToken('t1', T0, T0 + 100);
        await store.users.createSetupToken('t2', T0, T0 + 100);
        const racing = await Promise.all([store.users.consumeSetupToken('t1', T0 + 1), store.users.consumeSetupToken('t1', T0 + 1)]);
        expect(racing.sort()).toEqual([false, true]);
        expect(await store.users.consumeSetupToken('t1', T0 + 2)).toBe(false);
        expect(await store.users.consumeSetupToken('t2', T0 + 100)).toBe(false);
        expect(await store.users.consumeSetupToken('unknown', T0)).toBe(false);
      });
    });
  },
};
