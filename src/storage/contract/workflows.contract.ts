/**
 * The WorkflowStore and DeliveryStore ports (workflows/workflow-store.port.ts): versions,
 * workspace isolation, revisions, exactly-once run starts (per trigger key and, for `once`,
 * per contact) with the first job in the same transaction, step results that schedule the
 * next job once and are dropped on ended runs, exits, traces, deliveries and their retries.
 */
import { describe, expect, it } from 'vitest';
import type { Workflow, WorkflowDefinition } from '../../workflows/workflow-definition.js';
import type { Entry } from '../../workflows/workflow-store.port.js';
import type { Store } from '../ports.js';
import { T0, storeFixture, type ContractSuite } from './contract-fixture.js';

const def = (name: string): WorkflowDefinition => ({
  name,
  trigger: { event: 'signup' },
  frequency: 'once',
  steps: [{ id: 'w', type: 'wait', duration: '1h', durationMs: 3_600_000 }],
  source: { name, trigger: { event: 'signup' }, frequency: 'once', steps: [{ id: 'w', type: 'wait', duration: '1h' }] },
});

const job = (key: string) => ({ kind: 'contract.workflow', key, payload: { key }, runAt: T0 });

function start(wf: Workflow, runId: string, contactId: string, triggerKey: string, once = true): Entry {
  return {
    kind: 'start',
    runId,
    workspaceId: wf.workspaceId,
    workflowId: wf.id,
    version: wf.version,
    contactId,
    triggerKey,
    triggerMessageId: triggerKey,
    once,
    triggerEvent: { messageId: triggerKey },
    firstJob: job(`${runId}@0`),
  };
}

export const workflowsContract: ContractSuite = {
  port: 'src/workflows/workflow-store.port.ts',
  run(open) {
    describe('workflows', () => {
      let store: Store;
      let wsA: string;
      let wsB: string;
      storeFixture(open, (f) => {
        store = f.store;
        wsA = f.wsA;
        wsB = f.wsB;
      });

      it('saves versions, keeps old ones readable, isolates workspaces, counts revisions', async () => {
        expect(await store.workflows.revisions([wsA])).toEqual(new Map());
        const v1 = (await store.workflows.save({ id: 'wf_a', workspaceId: wsA, definition: def('one'), status: 'active', now: T0, create: true }))!;
        expect(v1).toMatchObject({ id: 'wf_a', version: 1, status: 'active', definition: { name: 'one' } });
        const v2 = (await store.workflows.save({ id: 'wf_a', workspaceId: wsA, definition: def('two'), status: 'active', now: T0 + 1, create: false }))!;
        expect(v2.version).toBe(2);
        expect((await store.workflows.get(wsA, 'wf_a', 1))?.definition.name).toBe('one');
        expect((await store.workflows.get(wsA, 'wf_a'))?.definition.name).toBe('two');
        expect(await store.workflows.get(wsB, 'wf_a')).toBeNull();
        expect(await store.workflows.save({ id: 'wf_a', workspaceId: wsB, definition: def('x'), status: 'active', now: T0, create: false })).toBeNull();
        expect((await store.workflows.setStatus(wsA, 'wf_a', 'paused', T0 + 2))?.status).toBe('paused');
        expect((await store.workflows.revisions([wsA, wsB])).get(wsA)).toBe(3);
        expect((await store.workflows.forWorkspace(wsA)).workflows.map((w) => w.id)).toEqual(['wf_a']);
        expect((await store.workflows.list({ workspaceId: wsA, limit: 10 })).map((w) => w.id)).toEqual(['wf_a']);
        expect(await store.workflows.delete(wsB, 'wf_a', T0)).toBe(false);
        expect(await store.workflows.delete(wsA, 'wf_a', T0 + 3)).toBe(true);
        expect(await store.workflows.get(wsA, 'wf_a')).toBeNull();
        expect((await store.workflows.get(wsA, 'wf_a', 1))?.version).toBe(1);
        expect((await store.workflows.forWorkspace(wsA)).workflows).toEqual([]);
      });

      it('starts one run per trigger key and, once, per contact; the first job comes with it; traces say why', async () => {
        const wf = (await store.workflows.save({ id: 'wf_b', workspaceId: wsA, definition: def('b'), status: 'active', now: T0, create: true }))!;
        const t1 = await store.workflows.enter([start(wf, 'run_1', 'c1', 'm1'), start(wf, 'run_2', 'c1', 'm1'), start(wf, 'run_3', 'c1', 'm2')], T0);
        expect(t1).toEqual([
          { workflowId: 'wf_b', runId: 'run_1', outcome: 'started' },
          { workflowId: 'wf_b', runId: 'run_1', outcome: 'started' },
          { workflowId: 'wf_b', outcome: 'not_entered', reason: 'already_entered' },
        ]);
        expect(await store.workflows.enter([start(wf, 'run_4', 'c2', 'm3', false), start(wf, 'run_5', 'c2', 'm4', false)], T0)).toHaveLength(2);
        await store.workflows.enter([{ kind: 'skip', workspaceId: wsA, workflowId: 'wf_b', messageId: 'm5', reason: 'backdated' }], T0);
        expect(await store.workflows.traces(wsA, 'm5')).toEqual([{ workflowId: 'wf_b', outcome: 'not_entered', reason: 'backdated' }]);
        expect(await store.workflows.traces(wsB, 'm1')).toEqual([]);
        expect((await store.jobs.claim({ workerId: 'w', kinds: ['contract.workflow'], limit: 10, now: T0, leaseMs: 1000 })).map((j) => j.key).sort()).toEqual(['run_1@0', 'run_4@0', 'run_5@0']);
        expect(await store.workflows.getRun('run_2')).toBeNull();
        expect((await store.workflows.getRun('run_1', wsA))?.status).toBe('running');
        expect(await store.workflows.getRun('run_1', wsB)).toBeNull();
        expect((await store.workflows.listRuns({ workspaceId: wsA, workflowId: 'wf_b', contactId: 'c2', limit: 10 })).map((r) => r.id).sort()).toEqual(['run_4', 'run_5']);
      });

      it('advance records the step and schedules the next job once; an exited run takes no more', async () => {
        const wf = (await store.workflows.save({ id: 'wf_c', workspaceId: wsA, definition: def('c'), status: 'active', now: T0, create: true }))!;
        await store.workflows.enter([start(wf, 'run_c', 'c1', 'mc'), start(wf, 'run_d', 'c1', 'md', false)], T0);
        const result = { stepId: 'w', state: { status: 'waiting' as const, attempts: 0, startedAt: T0, finishedAt: null }, runStatus: 'waiting' as const, wakeAt: T0 + 5, next: job('run_c@0:wake') };
        expect(await store.workflows.advance('run_c', result, T0)).toBe(true);
        expect(await store.workflows.advance('run_c', result, T0)).toBe(true);
        const r = (await store.workflows.getRun('run_c'))!;
        expect(r).toMatchObject({ status: 'waiting', wakeAt: T0 + 5, steps: { w: { status: 'waiting' } } });
        const keys = (await store.jobs.claim({ workerId: 'w', kinds: ['contract.workflow'], limit: 10, now: T0 + 10, leaseMs: 1000 })).map((j) => j.key);
        expect(keys.filter((k) => k === 'run_c@0:wake')).toHaveLength(1);
        expect(await store.workflows.exitRuns({ workspaceId: wsA, workflowId: 'wf_c', contactId: 'c1', exceptTriggerKey: 'md', now: T0 })).toBe(1);
        expect((await store.workflows.getRun('run_c'))?.status).toBe('exited');
        expect((await store.workflows.getRun('run_d'))?.status).toBe('running');
        expect(await store.workflows.advance('run_c', { ...result, next: job('run_c@1') }, T0)).toBe(false);
      });

      it('deliveries: one per (run, step) with its first job; attempts recorded; only a failed one is retried', async () => {
        const d = { id: 'dlv_1', workspaceId: wsA, workflowId: 'wf_x', runId: 'run_x', stepId: 's', url: 'https://example.com/h', headers: { a: 'b' }, body: '{}' };
        const made = await store.deliveries.create(d, (id) => job(`${id}#1`), T0);
        expect(made).toMatchObject({ id: 'dlv_1', status: 'pending', attempts: [], headers: { a: 'b' } });
        expect((await store.deliveries.create({ ...d, id: 'dlv_2' }, (id) => job(`${id}#1`), T0)).id).toBe('dlv_1');
        await store.deliveries.recordAttempt({ id: 'dlv_1', attempt: { at: T0, status: 500, latencyMs: 3, response: 'x' }, status: 'pending', nextAttemptAt: T0 + 5, next: job('dlv_1#2'), now: T0 });
        expect(await store.deliveries.retry({ id: 'dlv_1', workspaceId: wsA, job: job('dlv_1#r'), now: T0 })).toBe(false);
        await store.deliveries.recordAttempt({ id: 'dlv_1', attempt: { at: T0 + 5, status: 410, latencyMs: 3, response: 'gone' }, status: 'failed', nextAttemptAt: null, next: null, now: T0 + 5 });
        expect((await store.deliveries.list({ workspaceId: wsA, status: 'failed', limit: 10 })).map((x) => x.attempts.map((a) => a.status))).toEqual([[500, 410]]);
        expect(await store.deliveries.list({ workspaceId: wsB, limit: 10 })).toEqual([]);
        expect(await store.deliveries.get('dlv_1', wsB)).toBeNull();
        expect(await store.deliveries.retry({ id: 'dlv_1', workspaceId: wsB, job: job('dlv_1#r'), now: T0 })).toBe(false);
        expect(await store.deliveries.retry({ id: 'dlv_1', workspaceId: wsA, job: job('dlv_1#r'), now: T0 })).toBe(true);
        expect((await store.deliveries.get('dlv_1'))?.status).toBe('pending');
        const keys = (await store.jobs.claim({ workerId: 'w', kinds: ['contract.workflow'], limit: 10, now: T0 + 10, leaseMs: 1000 })).map((j) => j.key).sort();
        expect(keys).toEqual(['dlv_1#1', 'dlv_1#2', 'dlv_1#r']);
      });
    });
  },
};
