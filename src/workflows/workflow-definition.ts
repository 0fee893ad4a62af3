/**
 * A workflow definition as the API takes it (SPEC.md, "Workflows"): validated and normalised
 * here, once, at create/update time, so the trigger stage and the runner only ever see
 * definitions that parse. Conditions are parsed by core/conditions (their errors name the
 * path: `trigger.where.all[1].op`, `steps[2].if`); everything else is a 400 INVALID_BODY
 * naming its field. Pure: no storage, no clock.
 */
import { InvalidConditionError, parseCondition, type Condition } from '../core/conditions/condition.js';
import { references } from '../core/conditions/references.js';
import { DurationError, parseDuration } from '../core/duration.js';
import { isPlainObject } from '../core/validate-properties.js';
import type { JsonObject } from '../core/types.js';
import type { EgressPolicy } from './transports/egress.js';
import { checkTemplate } from './transports/templates.js';
import { checkWebhookHeaders, checkWebhookUrl } from './transports/webhook-sender.js';

export type WorkflowStatus = 'active' | 'paused';

export type Trigger = { event: string; where?: Condition } | { segment: string; on: 'enter' | 'exit' };

export type Step =
  | { id: string; type: 'wait'; duration: string; durationMs: number }
  | { id: string; type: 'branch'; if: Condition; then: Step[]; else?: Step[] }
  /** `test: true` marks a test endpoint: the only kind test mode sends to (the rest it records unsent). */
  | { id: string; type: 'webhook'; url: string; headers?: Record<string, string>; test?: boolean }
  | { id: string; type: 'email'; subject: string; html?: string; text?: string; from?: string }
  | { id: string; type: 'update_contact'; properties: JsonObject };

export interface WorkflowDefinition {
  name: string;
  trigger: Trigger;
  frequency: 'once' | 'every';
  exitWhen?: { event: string; where?: Condition };
  steps: Step[];
  /** The definition as sent (name, trigger, frequency, exitWhen, steps): what the API shows. */
  source: JsonObject;
}

/** A stored workflow, current version. */
export interface Workflow {
  id: string;
  workspaceId: string;
  version: number;
  status: WorkflowStatus;
  definition: WorkflowDefinition;
  createdAt: number;
  updatedAt: number;
}

/** A definition (or field) the API refuses: `code` picks the error (INVALID_CONDITION or INVALID_BODY). */
export class InvalidWorkflowError extends Error {
  override readonly name = 'InvalidWorkflowError';
  constructor(
    message: string,
    readonly code: 'INVALID_CONDITION' | 'INVALID_BODY' = 'INVALID_BODY',
  ) {
    super(message);
  }
}

const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,60}$/;
const STEP_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SEGMENT_ID = /^seg_[A-Za-z0-9_-]{1,100}$/;
const MAX_STEPS = 100;
const FIELDS = new Set(['name', 'trigger', 'frequency', 'exitWhen', 'steps', 'status']);

function fail(message: string): never {
  throw new InvalidWorkflowError(message);
}

function condition(input: unknown, basePath: string): Condition {
  try {
    return parseCondition(input, { scope: 'workflow', basePath });
  } catch (err) {
    if (err instanceof InvalidConditionError) throw new InvalidWorkflowError(err.message, 'INVALID_CONDITION');
    throw err;
  }
}

function eventName(v: unknown, path: string): string {
  if (typeof v !== 'string' || !EVENT_NAME.test(v)) fail(`"${path}" must be an event name (1-60 characters of A-Z a-z 0-9 _ . : -)`);
  return v;
}

export interface ParseOptions {
  /** The egress policy of this server: a literal non-public IP in a webhook URL is refused up front. */
  egress: EgressPolicy;
}

/** Validates a POST/PUT body; returns the definition and the requested status (default active). */
export function parseWorkflowBody(body: unknown, opts: ParseOptions): { definition: WorkflowDefinition; status: WorkflowStatus } {
  if (!isPlainObject(body)) fail('Request body must be a JSON object');
  for (const k of Object.keys(body)) if (!FIELDS.has(k)) fail(`unknown field "${k.slice(0, 100)}"`);
  const name = body.name;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) fail('"name" must be a non-empty string of at most 200 characters');
  const status = body.status ?? 'active';
  if (status !== 'active' && status !== 'paused') fail('"status" must be "active" or "paused"');
  const frequency = body.frequency ?? 'once';
  if (frequency !== 'once' && frequency !== 'every') fail('"frequency" must be "once" or "every"');

  const t = body.trigger;
  if (!isPlainObject(t)) fail('"trigger" must be an object: {"event", "where"?} or {"segment", "on"}');
  let trigger: Trigger;
  if (t.event !== undefined) {
    for (const k of Object.keys(t)) if (k !== 'event' && k !== 'where') fail(`unknown field "trigger.${k.slice(0, 100)}"`);
    trigger = { event: eventName(t.event, 'trigger.event') };
    if (t.where !== undefined) trigger.where = condition(t.where, 'trigger.where');
  } else if (t.segment !== undefined) {
    for (const k of Object.keys(t)) if (k !== 'segment' && k !== 'on') fail(`unknown field "trigger.${k.slice(0, 100)}"`);
    if (typeof t.segment !== 'string' || !SEGMENT_ID.test(t.segment)) fail('"trigger.segment" must be a segment id (seg_…)');
    if (t.on !== 'enter' && t.on !== 'exit') fail('"trigger.on" must be "enter" or "exit"');
    trigger = { segment: t.segment, on: t.on };
  } else {
    fail('"trigger" must have "event" or "segment"');
  }

  let exitWhen: WorkflowDefinition['exitWhen'];
  if (body.exitWhen !== undefined) {
    const x = body.exitWhen;
    if (!isPlainObject(x)) fail('"exitWhen" must be an object {"event", "where"?}');
    for (const k of Object.keys(x)) if (k !== 'event' && k !== 'where') fail(`unknown field "exitWhen.${k.slice(0, 100)}"`);
    exitWhen = { event: eventName(x.event, 'exitWhen.event') };
    if (x.where !== undefined) exitWhen.where = condition(x.where, 'exitWhen.where');
  }

  if (!Array.isArray(body.steps)) fail('"steps" must be an array');
  const ids = new Set<string>();
  const count = { n: 0 };
  const steps = parseSteps(body.steps, 'steps', ids, count, opts);
  const source: JsonObject = { name, trigger: t, frequency, steps: body.steps };
  if (body.exitWhen !== undefined) source.exitWhen = body.exitWhen;
  const definition: WorkflowDefinition = { name, trigger, frequency, steps, source };
  if (exitWhen) definition.exitWhen = exitWhen;
  return { definition, status };
}

function parseSteps(list: unknown[], path: string, ids: Set<string>, count: { n: number }, opts: ParseOptions): Step[] {
  return list.map((raw, i) => {
    const p = `${path}[${i}]`;
    if (++count.n > MAX_STEPS) fail(`a workflow has at most ${MAX_STEPS} steps`);
    if (!isPlainObject(raw)) fail(`"${p}" must be an object`);
    const id = raw.id;
    if (typeof id !== 'string' || !STEP_ID.test(id)) fail(`"${p}.id" must be 1-64 characters of A-Z a-z 0-9 _ -`);
    if (ids.has(id)) fail(`"${p}.id": step id "${id}" is used twice`);
    ids.add(id);
    const allowed = (...names: string[]) => {
      for (const k of Object.keys(raw)) if (k !== 'id' && k !== 'type' && !names.includes(k)) fail(`unknown field "${p}.${k.slice(0, 100)}"`);
    };
    switch (raw.type) {
      case 'wait': {
        allowed('duration');
        try {
          return { id, type: 'wait', duration: raw.duration as string, durationMs: parseDuration(raw.duration) };
        } catch (err) {
          if (err instanceof DurationError) fail(`"${p}.duration": ${err.message}`);
          throw err;
        }
      }
      case 'branch': {
        allowed('if', 'then', 'else');
        const cond = condition(raw.if, `${p}.if`);
        if (!Array.isArray(raw.then)) fail(`"${p}.then" must be an array of steps`);
        const step: Step = { id, type: 'branch', if: cond, then: parseSteps(raw.then, `${p}.then`, ids, count, opts) };
        if (raw.else !== undefined) {
          if (!Array.isArray(raw.else)) fail(`"${p}.else" must be an array of steps`);
          step.else = parseSteps(raw.else, `${p}.else`, ids, count, opts);
        }
        return step;
      }
      case 'webhook': {
        allowed('url', 'headers', 'test');
        if (typeof raw.url !== 'string' || raw.url.length > 2048) fail(`"${p}.url" must be an http(s) URL`);
        const bad = checkWebhookUrl(raw.url, opts.egress);
        if (bad) fail(`"${p}.url": ${bad}`);
        const step: Step = { id, type: 'webhook', url: raw.url };
        if (raw.headers !== undefined) {
          if (!isPlainObject(raw.headers)) fail(`"${p}.headers" must be an object of strings`);
          const h = checkWebhookHeaders(raw.headers);
          if (h) fail(`"${p}.headers": ${h}`);
          step.headers = raw.headers as Record<string, string>;
        }
        if (raw.test !== undefined) {
          if (typeof raw.test !== 'boolean') fail(`"${p}.test" must be a boolean`);
          step.test = raw.test;
        }
        return step;
      }
      case 'email': {
        allowed('subject', 'html', 'text', 'from');
        const step: Step = { id, type: 'email', subject: template(raw.subject, `${p}.subject`) };
        if (raw.html !== undefined) step.html = template(raw.html, `${p}.html`);
        if (raw.text !== undefined) step.text = template(raw.text, `${p}.text`);
        if (step.html === undefined && step.text === undefined) fail(`"${p}" needs "html" or "text"`);
        if (raw.from !== undefined) {
          if (typeof raw.from !== 'string' || !/@/.test(raw.from) || /[\r\n]/.test(raw.from) || raw.from.length > 320) fail(`"${p}.from" must be an address or "Name <address>"`);
          step.from = raw.from;
        }
        return step;
      }
      case 'update_contact': {
        allowed('properties');
        if (!isPlainObject(raw.properties) || Object.keys(raw.properties).length === 0) fail(`"${p}.properties" must be a non-empty object`);
        if ('email' in raw.properties) fail(`"${p}.properties" cannot change "email"`);
        return { id, type: 'update_contact', properties: raw.properties as JsonObject };
      }
      default:
        fail(`"${p}.type" must be one of wait, branch, webhook, email, update_contact`);
    }
  });
}

function template(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length > 100_000) fail(`"${path}" must be a template string (at most 100,000 characters)`);
  const bad = checkTemplate(v);
  if (bad) fail(`"${path}": ${bad}`);
  return v;
}

/** Segment ids a definition names (trigger and inSegment conditions), for SegmentReferrer and validation. */
export function segmentsOf(def: WorkflowDefinition): Set<string> {
  const out = new Set<string>();
  if ('segment' in def.trigger) out.add(def.trigger.segment);
  const add = (c: Condition | undefined) => {
    if (c) for (const s of references(c).segments) out.add(s);
  };
  if ('event' in def.trigger) add(def.trigger.where);
  add(def.exitWhen?.where);
  const walk = (steps: Step[]) => {
    for (const s of steps) {
      if (s.type === 'branch') {
        add(s.if);
        walk(s.then);
        if (s.else) walk(s.else);
      }
    }
  };
  walk(def.steps);
  return out;
}

/**
 * A position in the step tree: indices, descending through branches by `then`/`else`
 * (`[2, "then", 0]` is the first step of the third step's `then`). Jobs carry it.
 */
export type StepPos = (number | 'then' | 'else')[];

export function stepAt(steps: Step[], pos: StepPos): Step | null {
  let list: Step[] | undefined = steps;
  let step: Step | null = null;
  for (let i = 0; i < pos.length; i++) {
    const p = pos[i]!;
    if (typeof p === 'number') {
      step = list?.[p] ?? null;
      if (!step) return null;
    } else {
      if (!step || step.type !== 'branch') return null;
      list = p === 'then' ? step.then : step.else;
    }
  }
  return step;
}

/** The position after `pos` once the step there is done (out of finished branches), or null at the end. */
export function nextPos(steps: Step[], pos: StepPos): StepPos | null {
  let p = [...pos];
  while (p.length > 0) {
    const next = [...p.slice(0, -1), (p[p.length - 1] as number) + 1];
    if (stepAt(steps, next)) return next;
    if (p.length === 1) return null;
    p = p.slice(0, -2); // out of the branch's list: continue after the branch step itself
  }
  return null;
}

/** Every step in document order (for a run's per-step status). */
export function allSteps(steps: Step[]): Step[] {
  const out: Step[] = [];
  const walk = (l: Step[]) => {
    for (const s of l) {
      out.push(s);
      if (s.type === 'branch') {
        walk(s.then);
        if (s.else) walk(s.else);
      }
    }
  };
  walk(steps);
  return out;
}

export function posKey(pos: StepPos): string {
  return pos.join('.');
}
