/**
 * The WorkspaceSecretStore port (workflows/workspace-secrets.port.ts): signing secrets made
 * on first use and stable, rotation with a 24 h overlap, unsubscribe keys, workspace isolation.
 */
import { describe, expect, it } from 'vitest';
import { ROTATION_OVERLAP_MS } from '../../workflows/workspace-secrets.port.js';
import type { Store } from '../ports.js';
import { T0, storeFixture, type ContractSuite } from './contract-fixture.js';

export const workspaceSecretsContract: ContractSuite = {
  port: 'src/workflows/workspace-secrets.port.ts',
  run(open) {
    describe('workspace secrets', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      storeFixture(open, (f) => {
        store = f.store;
        wsA = f.wsA;
        wsB = f.wsB;
      });

      it('makes a whsec_ secret on first use, the same on every later call, one per workspace', async () => {
        const a = await store.secrets.webhookSecret(wsA, T0);
        expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
        expect(await store.secrets.webhookSecret(wsA, T0 + 1000)).toBe(a);
        expect(await store.secrets.signingSecrets(wsA, T0 + 2000)).toEqual([a]);
        const b = await store.secrets.signingSecrets(wsB, T0);
        expect(b).toHaveLength(1);
        expect(b[0]).not.toBe(a);
      });

      it('two racing first uses agree on one secret', async () => {
        const all = await Promise.all([
          store.secrets.webhookSecret(wsA, T0),
          store.secrets.signingSecrets(wsA, T0).then((s) => s[0]),
          store.secrets.webhookSecret(wsA, T0),
          store.secrets.unsubscribeKey(wsA, T0).then(() => store.secrets.webhookSecret(wsA, T0)),
        ]);
        expect(new Set(all).size).toBe(1);
      });

      it('rotation makes a new current secret; the previous is still sent for 24 h, then not', async () => {
        const first = await store.secrets.webhookSecret(wsA, T0);
        const r = await store.secrets.rotateWebhookSecret(wsA, T0 + 10);
        expect(r).toEqual({ secret: expect.stringMatching(/^whsec_/), previous: first, previousValidUntil: T0 + 10 + ROTATION_OVERLAP_MS });
        expect(r.secret).not.toBe(first);
        expect(await store.secrets.webhookSecret(wsA, T0 + 20)).toBe(r.secret);
        expect(await store.secrets.signingSecrets(wsA, T0 + 20)).toEqual([r.secret, first]);
        expect(await store.secrets.signingSecrets(wsA, T0 + 10 + ROTATION_OVERLAP_MS - 1)).toEqual([r.secret, first]);
        expect(await store.secrets.signingSecrets(wsA, T0 + 10 + ROTATION_OVERLAP_MS)).toEqual([r.secret]);
        // The other workspace is untouched.
        expect(await store.secrets.signingSecrets(wsB, T0 + 20)).toHaveLength(1);
        expect(await store.secrets.signingSecrets(wsB, T0 + 20)).not.toContain(first);
      });

      it('a second rotation keeps only the secret it replaced', async () => {
        const first = await store.secrets.webhookSecret(wsA, T0);
        const r1 = await store.secrets.rotateWebhookSecret(wsA, T0 + 1);
        const r2 = await store.secrets.rotateWebhookSecret(wsA, T0 + 2);
        expect(r2.previous).toBe(r1.secret);
        const now = await store.secrets.signingSecrets(wsA, T0 + 3);
        expect(now).toEqual([r2.secret, r1.secret]);
        expect(now).not.toContain(first);
      });

      it('rotating a workspace that never had a secret works', async () => {
        const r = await store.secrets.rotateWebhookSecret(wsB, T0);
        expect(await store.secrets.signingSecrets(wsB, T0 + 1)).toEqual([r.secret, r.previous]);
      });

      it('unsubscribe keys: 32 bytes, made on first use, stable, per workspace; find never creates', async () => {
        expect(await store.secrets.findUnsubscribeKey(wsA)).toBeNull();
        expect(await store.secrets.findUnsubscribeKey('ws_missing')).toBeNull();
        const k = await store.secrets.unsubscribeKey(wsA, T0);
        expect(Buffer.isBuffer(k)).toBe(true);
        expect(k).toHaveLength(32);
        expect((await store.secrets.unsubscribeKey(wsA, T0 + 1)).equals(k)).toBe(true);
        expect((await store.secrets.findUnsubscribeKey(wsA))?.equals(k)).toBe(true);
        expect((await store.secrets.unsubscribeKey(wsB, T0)).equals(k)).toBe(false);
        // Rotating the signing secret leaves the unsubscribe key alone (links in sent mail keep working).
        await store.secrets.rotateWebhookSecret(wsA, T0 + 2);
        expect((await store.secrets.unsubscribeKey(wsA, T0 + 3)).equals(k)).toBe(true);
      });
    });
  },
};
