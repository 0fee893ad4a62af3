/**
 * The TrackingPlanStore port (tracking-plan/tracking-plan-store.port.ts): one plan per
 * workspace, a version that grows on every put and delete (a delete included, so caches see
 * it), workspace isolation; and the events an append flagged, newest first, read back from
 * the events table.
 */
import { describe, expect, it } from 'vitest';
import type { TrackingPlan } from '../../tracking-plan/tracking-plan.js';
import type { Store } from '../ports.js';
import { T0, storeFixture, type ContractSuite } from './contract-fixture.js';

const PLAN: TrackingPlan = { mode: 'warn', allowUnplanned: false, events: [{ name: 'signed_up', properties: { type: 'object', required: ['plan'] } }, { pattern: '^a\\.b$' }] };

export const trackingPlanContract: ContractSuite = {
  port: 'src/tracking-plan/tracking-plan-store.port.ts',
  run(open) {
    describe('tracking plans', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      const fx = storeFixture(open, (s) => {
        store = s.store;
        wsA = s.wsA;
        wsB = s.wsB;
      });

      it('puts, reads, versions and deletes one plan per workspace', async () => {
        expect(await store.trackingPlans.get(wsA)).toBeNull();
        expect(await store.trackingPlans.version(wsA)).toBe(0);
        expect(await store.trackingPlans.put(wsA, PLAN, T0)).toEqual({ workspaceId: wsA, plan: PLAN, version: 1, updatedAt: T0 });
        expect(await store.trackingPlans.get(wsA)).toEqual({ workspaceId: wsA, plan: PLAN, version: 1, updatedAt: T0 });
        const block: TrackingPlan = { ...PLAN, mode: 'block' };
        expect(await store.trackingPlans.put(wsA, block, T0 + 1)).toMatchObject({ plan: block, version: 2, updatedAt: T0 + 1 });
        expect(await store.trackingPlans.version(wsA)).toBe(2);
        // Another workspace has none.
        expect(await store.trackingPlans.get(wsB)).toBeNull();
        expect(await store.trackingPlans.version(wsB)).toBe(0);
        expect(await store.trackingPlans.delete(wsB, T0)).toBe(false);
        // A delete removes the plan and still moves the version; a second delete changes nothing.
        expect(await store.trackingPlans.delete(wsA, T0 + 2)).toBe(true);
        expect(await store.trackingPlans.get(wsA)).toBeNull();
        expect(await store.trackingPlans.version(wsA)).toBe(3);
        expect(await store.trackingPlans.delete(wsA, T0 + 3)).toBe(false);
        expect(await store.trackingPlans.version(wsA)).toBe(3);
        expect((await store.trackingPlans.put(wsA, PLAN, T0 + 4)).version).toBe(4);
      });

      it('reads back the violations an append stored, newest first, per workspace, bounded', async () => {
        const v = (rule: string) => JSON.stringify([{ rule, path: 'event', message: `m-${rule}` }]);
        expect(
          await fx.append([
            fx.ev(wsA, 'm1', { violations: v('unplanned') }),
            fx.ev(wsA, 'm2'),
            fx.ev(wsA, 'm3', { violations: v('type') }),
            fx.ev(wsB, 'm4', { violations: v('required') }),
          ]),
        ).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
        expect(await store.trackingPlans.flaggedEvents(wsA, 10)).toEqual([
          { messageId: 'm3', event: 'signed_up', receivedAt: T0, violations: [{ rule: 'type', path: 'event', message: 'm-type' }] },
          { messageId: 'm1', event: 'signed_up', receivedAt: T0, violations: [{ rule: 'unplanned', path: 'event', message: 'm-unplanned' }] },
        ]);
        expect((await store.trackingPlans.flaggedEvents(wsA, 1)).map((e) => e.messageId)).toEqual(['m3']);
        expect((await store.trackingPlans.flaggedEvents(wsB, 10)).map((e) => e.messageId)).toEqual(['m4']);
        // The event reader carries them; an unflagged event has none.
        expect((await fx.mustGet(wsA, 'm1')).violations).toEqual([{ rule: 'unplanned', path: 'event', message: 'm-unplanned' }]);
        expect(await fx.mustGet(wsA, 'm2')).not.toHaveProperty('violations');
      });
    });
  },
};
