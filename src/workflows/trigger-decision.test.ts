import { describe, expect, it } from 'vitest';
import { parseWorkflowBody, type Workflow } from './workflow-definition.js';
import { decideEventTrigger, decideSegmentTrigger } from './trigger-decision.js';

const egress = { allowPrivate: false, allowedHosts: [] };
function workflow(body: Record<string, unknown>, status: 'active' | 'paused' = 'active'): Workflow {
  const { definition } = parseWorkflowBody({ name: 'w', steps: [], ...body }, { egress });
  return { id: 'wf_1', workspaceId: 'ws', version: 1, status, definition, createdAt: 0, updatedAt: 0 };
}
const HOUR = 3600_000;
const yes = async () => true;
const no = async () => false;

describe('decideEventTrigger (trigger stage, dry run and replay)', () => {
  const e = { event: 'signup', timestamp: 10 * HOUR, receivedAt: 10 * HOUR };
  it('checks the name, then paused, then the backdating rule, then the condition', async () => {
    const where = { property: 'event.plan', op: 'eq', value: 'pro' };
    expect(await decideEventTrigger(workflow({ trigger: { event: 'other' } }), e, 72 * HOUR, yes)).toEqual({ fires: false, reason: 'trigger_mismatch' });
    expect(await decideEventTrigger(workflow({ trigger: { event: 'signup', where } }, 'paused'), e, 72 * HOUR, no)).toEqual({ fires: false, reason: 'paused' });
    const old = { ...e, receivedAt: e.timestamp + 72 * HOUR + 1 };
    expect(await decideEventTrigger(workflow({ trigger: { event: 'signup', where } }), old, 72 * HOUR, no)).toEqual({ fires: false, reason: 'backdated' });
    expect(await decideEventTrigger(workflow({ trigger: { event: 'signup' } }), { ...e, receivedAt: e.timestamp + 72 * HOUR }, 72 * HOUR, no)).toEqual({ fires: true });
    expect(await decideEventTrigger(workflow({ trigger: { event: 'signup', where } }), e, 72 * HOUR, no)).toEqual({ fires: false, reason: 'filtered' });
    expect(await decideEventTrigger(workflow({ trigger: { event: 'signup', where } }), e, 72 * HOUR, yes)).toEqual({ fires: true });
  });

  it('asks for the condition only when everything else lets the run start', async () => {
    let asked = 0;
    const count = async () => (asked++, true);
    await decideEventTrigger(workflow({ trigger: { event: 'signup', where: { property: 'contact.x', op: 'exists' } } }, 'paused'), e, 72 * HOUR, count);
    expect(asked).toBe(0);
  });

  it('segment triggers fire on their own segment and direction, when active', () => {
    const wf = workflow({ trigger: { segment: 'seg_a', on: 'enter' } });
    expect(decideSegmentTrigger(wf, { segmentId: 'seg_a', on: 'enter' })).toEqual({ fires: true });
    expect(decideSegmentTrigger(wf, { segmentId: 'seg_a', on: 'exit' })).toEqual({ fires: false, reason: 'trigger_mismatch' });
    expect(decideSegmentTrigger({ ...wf, status: 'paused' }, { segmentId: 'seg_a', on: 'enter' })).toEqual({ fires: false, reason: 'paused' });
  });
});
