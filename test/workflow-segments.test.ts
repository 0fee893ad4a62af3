/**
 * The segments interfaces on the workflows side, on a real store: a `{"segment", "on"}`
 * trigger starts one run per transition (a transition delivered twice starts one), the
 * other direction starts nothing, and the referrer names the workflows using a segment.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowEngine } from '../src/cli/compose.js';
import type { JobContext } from '../src/processing/job-kind.js';
import { workflowSegmentReferrer } from '../src/workflows/segment-referrer.js';
import { WorkflowTriggers } from '../src/workflows/trigger.stage.js';
import { parseWorkflowBody } from '../src/workflows/workflow-definition.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let ws: string;
const ctx = (): JobContext => ({ now: Date.now(), log: pino({ level: 'silent' }), enqueue: async () => [] });

beforeAll(async () => {
  s = await startTestServer();
  ws = (await s.store.keys.ensureWorkspace('default', Date.now())).id;
});
afterAll(async () => {
  await s?.close();
});

describe('segment triggers and references', () => {
  it('one run per (workflow, transition); exit does not start an enter workflow; the referrer finds it', async () => {
    const egress = { allowPrivate: true, allowedHosts: [] };
    const enter = parseWorkflowBody({ name: 'On enter', frequency: 'every', trigger: { segment: 'seg_vip', on: 'enter' }, steps: [{ id: 'w', type: 'wait', duration: '1h' }] }, { egress });
    const uses = parseWorkflowBody(
      { name: 'Uses', trigger: { event: 'x' }, steps: [{ id: 'b', type: 'branch', if: { inSegment: 'seg_other' }, then: [] }] },
      { egress },
    );
    await s.store.workflows.save({ id: 'wf_enter', workspaceId: ws, definition: enter.definition, status: 'active', now: Date.now(), create: true });
    await s.store.workflows.save({ id: 'wf_uses', workspaceId: ws, definition: uses.definition, status: 'active', now: Date.now(), create: true });
    const triggers = new WorkflowTriggers(workflowEngine({ config: s.config, store: s.store, log: pino({ level: 'silent' }) }));
    const t = { id: 'tr_1', workspaceId: ws, segmentId: 'seg_vip', contactId: 'c_1', on: 'enter' as const, at: Date.now() };
    await triggers.onTransitions([t], ctx());
    await triggers.onTransitions([t], ctx());
    await triggers.onTransitions([{ ...t, id: 'tr_2', on: 'exit' }], ctx());
    expect(await s.store.workflows.listRuns({ workspaceId: ws, workflowId: 'wf_enter', limit: 10 })).toHaveLength(1);
    await triggers.onTransitions([{ ...t, id: 'tr_3' }], ctx());
    expect(await s.store.workflows.listRuns({ workspaceId: ws, workflowId: 'wf_enter', limit: 10 })).toHaveLength(2);
    const referrer = workflowSegmentReferrer(s.store.workflows);
    expect(await referrer.referencing(ws, 'seg_vip')).toEqual(['wf_enter']);
    expect(await referrer.referencing(ws, 'seg_other')).toEqual(['wf_uses']);
    expect(await referrer.referencing(ws, 'seg_none')).toEqual([]);
  });
});
