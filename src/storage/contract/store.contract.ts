/**
 * The storage contract: the observable behaviour of every port method, one suite per port
 * (keys, event log, events read, contacts, event queue, jobs, workspace secrets, workflows), run unchanged on every adapter by
 * the runners sqlite.contract.test.ts and postgres.contract.test.ts. A behaviour pinned here
 * is what callers may rely on whatever DATABASE_URL says; an adapter that needs a test of
 * its own internals writes a `*.<dialect>.test.ts` beside itself. contracts.test.ts checks
 * that every port has a suite here and every dialect a runner.
 */
import { segmentsContract } from './segments.contract.js';
import { describe, expect, it } from 'vitest';
import type { Store } from '../ports.js';
import { contactsContract } from './contacts.contract.js';
import { storeFixture, type ContractSuite, type OpenStore } from './contract-fixture.js';
import { eventLogContract } from './event-log.contract.js';
import { eventQueueContract } from './event-queue.contract.js';
import { eventsReadContract } from './events-read.contract.js';
import { identityContract } from './identity.contract.js';
import { jobQueueContract } from './job-queue.contract.js';
import { keysContract } from './keys.contract.js';
import { workspaceSecretsContract } from './workspace-secrets.contract.js';
import { workflowsContract } from './workflows.contract.js';
import { usersContract } from './users.contract.js';
import { activityContract } from './activity.contract.js';
import { catalogContract } from './catalog.contract.js';
import { trackingPlanContract } from './tracking-plan.contract.js';

export type { OpenedStore } from './contract-fixture.js';

/** What the Store itself promises, beside its ports. */
const lifecycleContract: ContractSuite = {
  port: 'src/storage/ports.ts',
  run(open) {
    describe('lifecycle', () => {
      let store: Store;
      storeFixture(open, (f) => {
        store = f.store;
      });

      it('migrate is idempotent and ping answers', async () => {
        expect((await store.migrate()).applied).toEqual([]);
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('capabilities name the dialect', () => {
        expect(['sqlite', 'postgres']).toContain(store.capabilities.dialect);
        expect(typeof store.capabilities.multiProcess).toBe('boolean');
      });
    });
  },
};

/** Every suite, in the order they run. */
export const CONTRACT_SUITES: readonly ContractSuite[] = [
  lifecycleContract,
  keysContract,
  eventLogContract,
  eventsReadContract,
  eventQueueContract,
  contactsContract,
  jobQueueContract,
  workspaceSecretsContract,
  identityContract,
  workflowsContract,
  segmentsContract,
  usersContract,
  activityContract,
  catalogContract,
  trackingPlanContract,
];

/** Runs every suite on one adapter; `open` gives each test a new, empty store. */
export function runStoreContract(name: string, open: OpenStore): void {
  describe(`storage contract: ${name}`, () => {
    for (const suite of CONTRACT_SUITES) suite.run(open);

    it(`runs all ${CONTRACT_SUITES.length} suites on ${name}, none of them empty`, ({ task }) => {
      const suites = (task.suite?.tasks ?? []).filter((t) => t.type === 'suite');
      expect(suites).toHaveLength(CONTRACT_SUITES.length);
      for (const s of suites) expect(s.tasks.length, s.name).toBeGreaterThan(0);
    });
  });
}
