import { describe, expect, it } from 'vitest';
import { allSteps, nextPos, parseWorkflowBody, stepAt, type Step } from './workflow-definition.js';

const egress = { allowPrivate: false, allowedHosts: [] };
const parse = (body: unknown) => parseWorkflowBody(body, { egress });

describe('workflow definitions', () => {
  const { definition } = parse({
    name: 'Tree',
    trigger: { event: 'a' },
    steps: [
      { id: 's0', type: 'wait', duration: '1m' },
      { id: 'b', type: 'branch', if: { property: 'contact.x', op: 'exists' }, then: [{ id: 't0', type: 'wait', duration: '1s' }, { id: 'nested', type: 'branch', if: { property: 'contact.y', op: 'exists' }, then: [{ id: 'n0', type: 'wait', duration: '1s' }] }], else: [{ id: 'e0', type: 'wait', duration: '1s' }] },
      { id: 'last', type: 'update_contact', properties: { done: true } },
    ],
  });
  const steps: Step[] = definition.steps;

  it('walks positions through branches and out of them', () => {
    expect(stepAt(steps, [1, 'then', 1, 'then', 0])?.id).toBe('n0');
    expect(nextPos(steps, [0])).toEqual([1]);
    expect(nextPos(steps, [1, 'then', 0])).toEqual([1, 'then', 1]);
    expect(nextPos(steps, [1, 'then', 1, 'then', 0])).toEqual([2]);
    expect(nextPos(steps, [1, 'else', 0])).toEqual([2]);
    expect(nextPos(steps, [2])).toBeNull();
    expect(allSteps(steps).map((s) => s.id)).toEqual(['s0', 'b', 't0', 'nested', 'n0', 'e0', 'last']);
  });

  it('keeps the definition as sent, defaults, and refuses what it cannot run', () => {
    expect(definition.frequency).toBe('once');
    expect(definition.source.steps).toHaveLength(3);
    expect(() => parse({ name: 'x', trigger: { event: 'a' }, steps: [{ id: 'a', type: 'wait', duration: '1s' }, { id: 'a', type: 'wait', duration: '1s' }] })).toThrow(/used twice/);
    expect(() => parse({ name: 'x', trigger: { event: 'a' }, steps: [{ id: 'h', type: 'webhook', url: 'http://127.0.0.1/x' }] })).toThrow(/steps\[0\]\.url/);
    expect(() => parse({ name: 'x', trigger: { event: 'a' }, steps: [{ id: 'm', type: 'email', subject: 'Hi {{ contact.a ', text: 'x' }] })).toThrow(/steps\[0\]\.subject/);
    expect(() => parse({ name: 'x', trigger: { event: 'a' }, steps: [], extra: 1 })).toThrow(/unknown field "extra"/);
    expect(() => parse({ name: 'x', trigger: { event: 'a', where: { all: [{ property: 'event.a', op: 'bad' }] } }, steps: [] })).toThrow(/trigger\.where\.all\[0\]/);
  });
});
