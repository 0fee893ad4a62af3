/**
 * A workspace's tracking plan, pure: parsing the body of PUT /v1/tracking-plan (every error
 * names its path) and compiling it into the check the ingest hot path runs on each event.
 *
 * - An entry matches an event by `name` (exact) or `pattern` (a regular expression over the
 *   whole name, e.g. `^[a-z_]+\.[a-z_]+$`). An exact name wins; otherwise the first pattern
 *   in plan order. `allowUnplanned: false` makes an event that matches no entry a violation.
 * - `properties` is a JSON Schema (draft 2020-12 vocabulary, Ajv strict mode) of the event's
 *   properties object (`{}` when it has none). Without a top-level `type`, `object` is meant.
 * - Only the first problem is reported (Ajv `allErrors: false`): the check stops at it, which
 *   is what keeps it cheap; the read API shows that one.
 *
 * Cost: compiling is done once per plan version and process. Name lookup is a Map get, then
 * the patterns in order; each entry's schema is compiled by Ajv into a JavaScript function on
 * first use (so a 1,000-entry plan loads in milliseconds, not the ~1 s compiling every schema
 * takes), and checking is one call of that function.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonObject } from '../core/types.js';
import { isPlainObject } from '../core/validate-properties.js';

export type PlanMode = 'warn' | 'block';

export interface PlanEntry {
  name?: string;
  pattern?: string;
  properties?: JsonObject;
}

export interface TrackingPlan {
  mode: PlanMode;
  allowUnplanned: boolean;
  events: PlanEntry[];
}

/** What a plan found wrong with one event (the read API's `violations` items). */
export interface Violation {
  /** `unplanned`, or the JSON Schema keyword that failed (`required`, `type`, `additionalProperties`, …). */
  rule: string;
  /** Where: `event` for the name, `properties.<path>` inside the properties. */
  path: string;
  message: string;
}

export const PLAN_LIMITS = {
  maxEntries: 1000,
  /** PUT body: 1,000 entries of ~1 KB schemas fit. */
  maxBodyBytes: 1_048_576,
  maxPatternChars: 200,
  maxNameChars: 60,
  /** Nesting of a properties schema (objects and arrays): Ajv compiles recursively, so a deeper one is refused before it. */
  maxSchemaDepth: 32,
} as const;

/** Whether a parsed JSON value nests objects/arrays deeper than `max` (iterative: no stack to overflow). */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

export class InvalidPlanError extends Error {
  override readonly name = 'InvalidPlanError';
}

const ENTRY_FIELDS = new Set(['name', 'pattern', 'properties']);
const PLAN_FIELDS = new Set(['mode', 'allowUnplanned', 'events']);
/**
 * A group holding a quantifier, itself quantified (`(a+)+`, `(\w*)*`, `(x{1,3})+`): the shape
 * of catastrophic backtracking. Patterns run on every event of the workspace, so they are
 * refused rather than risked (names are short, but `(a+)+$` over 30 characters is 2^30 steps).
 */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*(?:[*+?]|\{\d)(?:[^()\\]|\\.)*\)(?:[*+]|\{\d)/;

function fail(message: string): never {
  throw new InvalidPlanError(message);
}

/** The Ajv options every plan schema is compiled with: strict, first error only, no $data, nothing loaded from elsewhere. */
export function newPlanAjv(): Ajv {
  return new Ajv({
    strict: true,
    // `required` may name a property the schema does not describe ("present, any type").
    strictRequired: false,
    allErrors: false,
    $data: false,
    // No loadSchema: a $ref to anything but the schema itself fails to compile (no remote fetch, ever).
    addUsedSchema: false,
    messages: true,
    code: { optimize: true },
  });
}

function withObjectType(schema: JsonObject): JsonObject {
  return schema.type === undefined ? { type: 'object', ...schema } : schema;
}

/**
 * Checks a PUT body; throws InvalidPlanError naming the path of the first problem. Schemas
 * are compiled once to prove them (the structure of every entry is checked first).
 */
export function parsePlan(body: unknown): TrackingPlan {
  const plan = parsePlanShape(body);
  const ajv = newPlanAjv();
  plan.events.forEach((e, i) => proveSchema(ajv, e, i));
  return plan;
}

/**
 * As parsePlan, yielding to the event loop every SLICE_MS while it compiles: proving 1,000
 * schemas takes ~0.7 s of CPU (measured, 1,000 three-property schemas), which must not stall
 * the ingest requests this process serves meanwhile.
 */
export async function parsePlanYielding(body: unknown): Promise<TrackingPlan> {
  const plan = parsePlanShape(body);
  const ajv = newPlanAjv();
  let sliceStart = performance.now();
  for (let i = 0; i < plan.events.length; i++) {
    proveSchema(ajv, plan.events[i]!, i);
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise((r) => setImmediate(r));
      sliceStart = performance.now();
    }
  }
  return plan;
}

/** Longest run of schema compiling between two turns of the event loop. */
const SLICE_MS = 10;

function proveSchema(ajv: Ajv, e: PlanEntry, i: number): void {
  if (e.properties === undefined) return;
  try {
    ajv.compile(withObjectType(e.properties));
  } catch (err) {
    fail(`events[${i}].properties is not a valid JSON Schema: ${(err as Error).message.slice(0, 300)}`);
  } finally {
    ajv.removeSchema(); // the proof is not kept: the hot path compiles its own
  }
}

/** Everything but compiling the schemas. */
function parsePlanShape(body: unknown): TrackingPlan {
  if (!isPlainObject(body)) fail('Request body must be a JSON object');
  for (const k of Object.keys(body)) if (!PLAN_FIELDS.has(k)) fail(`Unknown field "${k.slice(0, 60)}": a tracking plan has "mode", "allowUnplanned" and "events"`);
  if (body.mode !== 'warn' && body.mode !== 'block') fail('"mode" must be "warn" or "block"');
  const allowUnplanned = body.allowUnplanned === undefined ? true : body.allowUnplanned;
  if (typeof allowUnplanned !== 'boolean') fail('"allowUnplanned" must be a boolean');
  if (!Array.isArray(body.events)) fail('"events" must be an array');
  if (body.events.length > PLAN_LIMITS.maxEntries) fail(`"events" cannot hold more than ${PLAN_LIMITS.maxEntries} entries`);
  const names = new Set<string>();
  const events: PlanEntry[] = body.events.map((raw: unknown, i: number): PlanEntry => {
    const at = `events[${i}]`;
    if (!isPlainObject(raw)) fail(`${at} must be an object`);
    for (const k of Object.keys(raw)) if (!ENTRY_FIELDS.has(k)) fail(`${at}: unknown field "${k.slice(0, 60)}" (an entry has "name" or "pattern", and "properties")`);
    const entry: PlanEntry = {};
    if ((raw.name === undefined) === (raw.pattern === undefined)) fail(`${at} must have exactly one of "name" and "pattern"`);
    if (raw.name !== undefined) {
      if (typeof raw.name !== 'string' || raw.name.length === 0 || raw.name.length > PLAN_LIMITS.maxNameChars) fail(`${at}.name must be a string of 1 to ${PLAN_LIMITS.maxNameChars} characters`);
      if (names.has(raw.name)) fail(`${at}.name: "${raw.name}" is already planned by an earlier entry`);
      names.add(raw.name);
      entry.name = raw.name;
    } else {
      const p = raw.pattern;
      if (typeof p !== 'string' || p.length === 0 || p.length > PLAN_LIMITS.maxPatternChars) fail(`${at}.pattern must be a string of 1 to ${PLAN_LIMITS.maxPatternChars} characters`);
      try {
        new RegExp(p, 'u');
      } catch (err) {
        fail(`${at}.pattern is not a valid regular expression: ${(err as Error).message}`);
      }
      if (NESTED_QUANTIFIER.test(p) || /\\[1-9]/.test(p)) fail(`${at}.pattern: nested quantifiers and backreferences are not allowed (they can make matching exponentially slow)`);
      entry.pattern = p;
    }
    if (raw.properties !== undefined) {
      if (!isPlainObject(raw.properties)) fail(`${at}.properties must be a JSON Schema object`);
      if (nestsDeeperThan(raw.properties, PLAN_LIMITS.maxSchemaDepth)) fail(`${at}.properties nests deeper than ${PLAN_LIMITS.maxSchemaDepth} levels`);
      entry.properties = raw.properties as JsonObject;
    }
    return entry;
  });
  return { mode: body.mode, allowUnplanned, events };
}

/** The dotted path of an Ajv error inside the properties object (`/cart/total` → `properties.cart.total`). */
function errorPath(e: ErrorObject): string {
  const parts = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'required' && typeof params.missingProperty === 'string') parts.push(params.missingProperty);
  if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') parts.push(params.additionalProperty);
  return ['properties', ...parts].join('.');
}

function entryLabel(e: PlanEntry): string {
  return e.name !== undefined ? `event "${e.name}"` : `pattern ${e.pattern}`;
}

/** The check one plan version compiles to; built once per version and process (tracking-plan-cache.ts). */
export class CompiledPlan {
  readonly mode: PlanMode;
  private readonly exact = new Map<string, number>();
  private readonly patterns: { index: number; re: RegExp }[] = [];
  private readonly validators: (ValidateFunction | null | undefined)[];
  private readonly ajv = newPlanAjv();

  constructor(
    private readonly plan: TrackingPlan,
    readonly version: number,
  ) {
    this.mode = plan.mode;
    plan.events.forEach((e, i) => {
      if (e.name !== undefined) this.exact.set(e.name, i);
      else this.patterns.push({ index: i, re: new RegExp(e.pattern!, 'u') });
    });
    this.validators = new Array(plan.events.length);
  }

  private entryFor(name: string): number {
    const i = this.exact.get(name);
    if (i !== undefined) return i;
    for (const p of this.patterns) if (p.re.test(name)) return p.index;
    return -1;
  }

  private validator(i: number): ValidateFunction | null {
    let v = this.validators[i];
    if (v === undefined) {
      const schema = this.plan.events[i]!.properties;
      // Proven at PUT; a stored plan that no longer compiles (an Ajv upgrade) checks nothing rather than failing ingest.
      try {
        v = schema === undefined ? null : this.ajv.compile(withObjectType(schema));
      } catch {
        v = null;
      }
      this.validators[i] = v;
    }
    return v;
  }

  /** The first problem of the event, or null when it follows the plan. */
  check(event: string, properties: JsonObject | null): Violation | null {
    const i = this.entryFor(event);
    if (i === -1) {
      if (this.plan.allowUnplanned) return null;
      return { rule: 'unplanned', path: 'event', message: `Tracking plan, rule "unplanned": event "${event}" matches no entry of the plan (allowUnplanned is false)` };
    }
    const validate = this.validator(i);
    if (validate === null || validate(properties ?? {})) return null;
    const err = validate.errors![0]!;
    const path = errorPath(err);
    const what = err.keyword === 'required' ? 'is required' : err.keyword === 'additionalProperties' ? 'is not allowed' : (err.message ?? 'is invalid');
    return { rule: err.keyword, path, message: `Tracking plan, ${entryLabel(this.plan.events[i]!)}, rule "${err.keyword}": ${path} ${what}` };
  }
}
