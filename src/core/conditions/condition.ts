/**
 * The condition language of SPEC.md Part 2 ("Conditions", shared by workflow triggers,
 * `exitWhen`, `branch` steps and segment rules): the AST, and the parser that validates and
 * normalises client JSON into it. Pure. Evaluation is in evaluate.ts, dependency analysis in
 * references.ts.
 *
 * ```
 * cond := {"all": [cond, …]} | {"any": [cond, …]} | {"not": cond}
 *       | {"property": PATH, "op": OP, "value"?: V}
 *       | {"performed": EVENT, "where"?: cond, "count"?: {"gte"|"lte"|"eq": n}, "within"?: DURATION}
 *       | {"inSegment": "seg_…"}
 * ```
 *
 * Validation decisions (SPEC.md only says an invalid condition is a 400 INVALID_CONDITION
 * naming the offending path):
 * - Each object is exactly one condition: `{"all": […], "property": …}` is refused, and so is
 *   any field the kind does not have (a typo such as `"valeu"` must not silently mean "no
 *   value"). `null` for an optional field of `performed` (`where`, `count`, `within`) is the
 *   same as leaving it out, as for optional event fields.
 * - `{"all": []}` is true and `{"any": []}` false (the usual identities: "all of nothing").
 * - Bounds, so client data cannot overflow the stack or make evaluation expensive: at most
 *   16 levels of nesting and 200 condition nodes in one condition; a path has at most 8
 *   segments and 256 characters; a `value` is at most 4 levels deep with 1,000 items in all.
 *   The parser checks depth before it descends, so a condition nested 100,000 levels deep
 *   (JSON.parse builds one from ~700 KB) is an InvalidConditionError, never a RangeError.
 * - Scopes: outside `performed.where`, paths are `contact.<name>` and, in workflows only,
 *   `event.<name>` (the triggering event's properties). Inside `performed.where` (in both
 *   scopes) paths are only `event.<name>`, the counted event's properties, and only
 *   `all`/`any`/`not`/`property` may appear: no nested `performed`, no `inSegment`, and no
 *   `within_last` (use the node's `within`), so whether one event matches never depends on
 *   the clock and per-node counters can be kept incrementally.
 * - Per-operator value rules are listed at `checkValue`; the semantics at `evaluate`.
 */
import { DurationError, parseDuration } from '../duration.js';
import { canonicalJson } from '../message-id.js';
import { parseInstant } from '../timestamp.js';
import type { JsonObject, JsonValue } from '../types.js';
import { validateEventName } from '../validate-event.js';

export const OPS = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'contains',
  'starts_with',
  'in',
  'exists',
  'not_exists',
  'before',
  'after',
  'within_last',
] as const;
export type Op = (typeof OPS)[number];

export type ConditionScope = 'workflow' | 'segment';

export interface AllCondition {
  all: Condition[];
}
export interface AnyCondition {
  any: Condition[];
}
export interface NotCondition {
  not: Condition;
}
export interface PropertyCondition {
  /** `contact.<path>` or `event.<path>`; dots descend into nested objects. */
  property: string;
  op: Op;
  /** Absent for `exists` / `not_exists`, present for every other operator. */
  value?: unknown;
}
export interface CountBounds {
  gte?: number;
  lte?: number;
  eq?: number;
}
export interface PerformedCondition {
  /** The event name. */
  performed: string;
  /** Over the counted event's properties (`event.<path>` only). */
  where?: Condition;
  /** As sent; absent means at least once (`{gte: 1}`, see DEFAULT_COUNT). */
  count?: CountBounds;
  /** The DURATION as sent. */
  within?: string;
  /** `within` in milliseconds, set by parseCondition. */
  withinMs?: number;
  /**
   * What this node counts, canonically: its event name, `where` and window (`withinMs`), not
   * its `count`. Two nodes with the same key always have the same number of matching events
   * (`"within": "1d"` and `"24h"` share one), so a caller keeps one counter per key.
   */
  key: string;
}
export interface InSegmentCondition {
  inSegment: string;
}
export type Condition =
  | AllCondition
  | AnyCondition
  | NotCondition
  | PropertyCondition
  | PerformedCondition
  | InSegmentCondition;

/** `performed` without `count`: at least once. */
export const DEFAULT_COUNT: Readonly<CountBounds> = Object.freeze({ gte: 1 });

export const CONDITION_LIMITS = {
  /** Condition nodes on the way from the root to the deepest one, both included. */
  maxDepth: 16,
  /** Condition nodes in one condition, `performed.where` included. */
  maxNodes: 200,
  /** Segments of a path after `contact.` / `event.` (properties are at most 3 deep). */
  maxPathSegments: 8,
  maxPathChars: 256,
  /** Nesting of an `eq`/`neq` value (`[[…]]` is 2); properties are at most 3 deep. */
  maxValueDepth: 4,
  /** Array items and object members in one `value`, all levels together (a long `in` list). */
  maxValueItems: 1000,
  maxSegmentIdChars: 100,
} as const;

export class InvalidConditionError extends Error {
  override readonly name = 'InvalidConditionError';
  /** The HTTP error code SPEC.md gives this (400). */
  readonly code = 'INVALID_CONDITION';
  /** Where in the client's JSON, e.g. `trigger.where.all[1].op` (basePath first). */
  readonly path: string;
  /** The message without the path. */
  readonly reason: string;
  constructor(path: string, reason: string) {
    super(path === '' ? reason : `${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

const KINDS = ['all', 'any', 'not', 'property', 'performed', 'inSegment'] as const;
type Kind = (typeof KINDS)[number];
const FIELDS: Record<Kind, readonly string[]> = {
  all: ['all'],
  any: ['any'],
  not: ['not'],
  property: ['property', 'op', 'value'],
  // `key` and `withinMs` are derived; accepted (and recomputed) so that a parsed condition
  // read back from storage parses again.
  performed: ['performed', 'where', 'count', 'within', 'withinMs', 'key'],
  inSegment: ['inSegment'],
};
const OP_SET = new Set<string>(OPS);
const SEGMENT_ID = /^seg_[A-Za-z0-9_-]+$/;
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

interface ParseState {
  scope: ConditionScope;
  nodes: number;
}

/**
 * Validates and normalises a condition from client JSON. Throws InvalidConditionError whose
 * message names the offending path, prefixed with `basePath` (`"rule"`, `"trigger.where"`,
 * `"steps[2].if"`). The result is a fresh object: nothing of `input` is shared with it.
 */
export function parseCondition(input: unknown, opts: { scope: ConditionScope; basePath: string }): Condition {
  return parseNode(input, opts.basePath, 1, false, { scope: opts.scope, nodes: 0 });
}

function parseNode(input: unknown, path: string, depth: number, inWhere: boolean, st: ParseState): Condition {
  if (depth > CONDITION_LIMITS.maxDepth) {
    throw new InvalidConditionError(path, `conditions cannot be nested more than ${CONDITION_LIMITS.maxDepth} levels deep`);
  }
  if (++st.nodes > CONDITION_LIMITS.maxNodes) {
    throw new InvalidConditionError(path, `a condition cannot have more than ${CONDITION_LIMITS.maxNodes} nodes`);
  }
  if (!isObject(input)) {
    throw new InvalidConditionError(
      path,
      'must be a condition object: {"all"}, {"any"}, {"not"}, {"property"}, {"performed"} or {"inSegment"}',
    );
  }
  const kinds = KINDS.filter((k) => hasOwn(input, k));
  const kind = kinds[0];
  if (kind === undefined) {
    throw new InvalidConditionError(path, 'must have one of "all", "any", "not", "property", "performed" or "inSegment"');
  }
  if (kinds.length > 1) {
    throw new InvalidConditionError(path, `has both "${kind}" and "${kinds[1]}": one condition per object`);
  }
  for (const field of Object.keys(input)) {
    if (!FIELDS[kind].includes(field)) {
      throw new InvalidConditionError(path, `unknown field ${quote(field)} in a "${kind}" condition`);
    }
  }

  switch (kind) {
    case 'all':
    case 'any': {
      const list = input[kind];
      const listPath = join(path, kind);
      if (!Array.isArray(list)) throw new InvalidConditionError(listPath, 'must be an array of conditions');
      const out: Condition[] = [];
      // The node bound stops this loop early on a huge array.
      for (let i = 0; i < list.length; i++) out.push(parseNode(list[i], `${listPath}[${i}]`, depth + 1, inWhere, st));
      return kind === 'all' ? { all: out } : { any: out };
    }
    case 'not':
      return { not: parseNode(input.not, join(path, 'not'), depth + 1, inWhere, st) };
    case 'property':
      return parseProperty(input, path, inWhere, st);
    case 'performed':
      if (inWhere) throw new InvalidConditionError(path, '"performed" cannot appear inside performed.where');
      return parsePerformed(input, path, depth, st);
    case 'inSegment': {
      if (inWhere) throw new InvalidConditionError(path, '"inSegment" cannot appear inside performed.where');
      const id = input.inSegment;
      if (typeof id !== 'string' || id.length > CONDITION_LIMITS.maxSegmentIdChars || !SEGMENT_ID.test(id)) {
        throw new InvalidConditionError(join(path, 'inSegment'), 'must be a segment id ("seg_…")');
      }
      return { inSegment: id };
    }
  }
}

function parseProperty(input: Record<string, unknown>, path: string, inWhere: boolean, st: ParseState): PropertyCondition {
  const propPath = join(path, 'property');
  const property = input.property;
  if (typeof property !== 'string') {
    throw new InvalidConditionError(propPath, 'must be a string such as "contact.plan" or "event.amount"');
  }
  // Length first: split() of a megabyte of dots would allocate before any other check.
  if (property.length > CONDITION_LIMITS.maxPathChars) {
    throw new InvalidConditionError(propPath, `cannot exceed ${CONDITION_LIMITS.maxPathChars} characters`);
  }
  const segments = splitPath(property);
  if (segments === null) {
    throw new InvalidConditionError(propPath, `must be "contact.<name>" or "event.<name>", got ${quote(property)}`);
  }
  if (segments.length - 1 > CONDITION_LIMITS.maxPathSegments) {
    throw new InvalidConditionError(
      propPath,
      `cannot have more than ${CONDITION_LIMITS.maxPathSegments} names after the "${segments[0]}." prefix`,
    );
  }
  if (segments.some((s) => s === '')) {
    throw new InvalidConditionError(propPath, `has an empty name in ${quote(property)}`);
  }
  if (segments.includes('__proto__')) throw new InvalidConditionError(propPath, '"__proto__" is not a property name');
  if (inWhere && segments[0] !== 'event') {
    throw new InvalidConditionError(
      propPath,
      'inside performed.where, paths are "event.<name>" (the counted event\'s properties)',
    );
  }
  if (!inWhere && segments[0] === 'event' && st.scope === 'segment') {
    throw new InvalidConditionError(
      propPath,
      'a segment rule reads "contact.<name>"; "event.<name>" paths are only allowed inside performed.where',
    );
  }

  const opPath = join(path, 'op');
  const op = input.op;
  if (op === undefined) throw new InvalidConditionError(opPath, 'is required');
  if (typeof op !== 'string' || !OP_SET.has(op)) {
    const shown = typeof op === 'string' ? `unknown operator ${quote(op)}` : 'must be a string';
    throw new InvalidConditionError(opPath, `${shown} (one of ${OPS.join(', ')})`);
  }
  if (inWhere && op === 'within_last') {
    throw new InvalidConditionError(
      opPath,
      '"within_last" is not allowed inside performed.where; use "within" on the performed condition',
    );
  }
  const out: PropertyCondition = { property, op: op as Op };
  const value = checkValue(op as Op, input, join(path, 'value'));
  if (value !== undefined) out.value = value;
  return out;
}

/**
 * Per-operator rules for `value` (refused at parse time, so evaluation needs no type checks
 * on it):
 * - `exists`, `not_exists`: no `value`.
 * - `eq`, `neq`: any JSON value except `null` (a null property counts as missing: use
 *   `exists` / `not_exists`), at most 4 deep and 1,000 items.
 * - `gt`, `gte`, `lt`, `lte`: a number, or an ISO 8601 date string (then a date comparison).
 * - `contains`: a string, number or boolean. `starts_with`: a string.
 * - `in`: an array (at most 1,000 items) of strings, numbers and booleans.
 * - `before`, `after`: an ISO 8601 date string or a Unix number (seconds below 1e11, else ms).
 * - `within_last`: a DURATION.
 */
function checkValue(op: Op, input: Record<string, unknown>, path: string): JsonValue | undefined {
  const present = hasOwn(input, 'value') && input.value !== undefined;
  const value = input.value;
  if (op === 'exists' || op === 'not_exists') {
    if (present) throw new InvalidConditionError(path, `is not allowed with "${op}"`);
    return undefined;
  }
  if (!present) throw new InvalidConditionError(path, `is required with "${op}"`);

  switch (op) {
    case 'eq':
    case 'neq':
      if (value === null) {
        throw new InvalidConditionError(
          path,
          'cannot be null: a null property counts as missing; use "exists" or "not_exists"',
        );
      }
      return copyJson(value, path, 1, { items: 0 });
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value === 'string' && parseInstant(value) !== null) return value;
      throw new InvalidConditionError(path, `must be a number or an ISO 8601 date with "${op}"`);
    case 'contains':
      if (isScalar(value)) return value;
      throw new InvalidConditionError(path, 'must be a string, number or boolean with "contains"');
    case 'starts_with':
      if (typeof value === 'string') return value;
      throw new InvalidConditionError(path, 'must be a string with "starts_with"');
    case 'in': {
      if (!Array.isArray(value)) throw new InvalidConditionError(path, 'must be an array with "in"');
      if (value.length > CONDITION_LIMITS.maxValueItems) {
        throw new InvalidConditionError(path, `cannot have more than ${CONDITION_LIMITS.maxValueItems} items`);
      }
      const out: JsonValue[] = [];
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (!isScalar(item)) throw new InvalidConditionError(`${path}[${i}]`, 'must be a string, number or boolean');
        out.push(item);
      }
      return out;
    }
    case 'before':
    case 'after':
      if ((typeof value === 'number' || typeof value === 'string') && parseInstant(value) !== null) return value;
      throw new InvalidConditionError(path, `must be an ISO 8601 date or a Unix timestamp with "${op}"`);
    case 'within_last':
      parseDurationAt(value, path);
      return value as string;
  }
}

function parsePerformed(input: Record<string, unknown>, path: string, depth: number, st: ParseState): PerformedCondition {
  const name = input.performed;
  const namePath = join(path, 'performed');
  if (typeof name !== 'string' || name === '') throw new InvalidConditionError(namePath, 'must be an event name');
  const nameError = validateEventName(name);
  if (nameError !== null) throw new InvalidConditionError(namePath, nameError.message);

  const out: Omit<PerformedCondition, 'key'> = { performed: name };
  if (input.where !== undefined && input.where !== null) {
    out.where = parseNode(input.where, join(path, 'where'), depth + 1, true, st);
  }
  if (input.count !== undefined && input.count !== null) out.count = parseCount(input.count, join(path, 'count'));
  if (input.within !== undefined && input.within !== null) {
    const withinPath = join(path, 'within');
    if (typeof input.within !== 'string') throw new InvalidConditionError(withinPath, 'must be a duration string');
    out.within = input.within;
    out.withinMs = parseDurationAt(input.within, withinPath);
  }
  return { ...out, key: performedKey(out) };
}

function parseCount(count: unknown, path: string): CountBounds {
  if (!isObject(count)) throw new InvalidConditionError(path, 'must be an object such as {"gte": 3}');
  const out: CountBounds = {};
  for (const k of Object.keys(count)) {
    if (k !== 'gte' && k !== 'lte' && k !== 'eq') {
      throw new InvalidConditionError(join(path, k), 'unknown field; use "gte", "lte" or "eq"');
    }
    const n = count[k];
    if (!(typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) {
      throw new InvalidConditionError(join(path, k), 'must be a whole number, 0 or more');
    }
    out[k] = n;
  }
  if (out.gte === undefined && out.lte === undefined && out.eq === undefined) {
    throw new InvalidConditionError(path, 'must have "gte", "lte" or "eq"');
  }
  if (out.eq !== undefined && (out.gte !== undefined || out.lte !== undefined)) {
    throw new InvalidConditionError(path, '"eq" cannot be combined with "gte" or "lte"');
  }
  if (out.gte !== undefined && out.lte !== undefined && out.gte > out.lte) {
    throw new InvalidConditionError(path, '"gte" is greater than "lte": no count can match');
  }
  return out;
}

/**
 * The stable `key` of a performed node (see PerformedCondition.key): canonical JSON (sorted
 * keys) of its name, `where` and window in ms. Computes the window from `within` when
 * `withinMs` is absent.
 */
export function performedKey(node: Omit<PerformedCondition, 'key'>): string {
  const withinMs = node.withinMs ?? (node.within === undefined ? undefined : parseDuration(node.within));
  const where = node.where === undefined ? undefined : conditionToJson(node.where);
  return canonicalJson({ performed: node.performed, where, withinMs } as unknown as JsonValue);
}

/**
 * The condition as a client wrote it, without the derived `key` and `withinMs`: what an API
 * response echoes ("as sent") and what storage may keep. parseCondition of it gives the
 * same Condition back.
 */
export function conditionToJson(cond: Condition): JsonObject {
  if ('all' in cond) return { all: cond.all.map(conditionToJson) };
  if ('any' in cond) return { any: cond.any.map(conditionToJson) };
  if ('not' in cond) return { not: conditionToJson(cond.not) };
  if ('property' in cond) {
    const out: JsonObject = { property: cond.property, op: cond.op };
    if (cond.value !== undefined) out.value = cond.value as JsonValue;
    return out;
  }
  if ('performed' in cond) {
    const out: JsonObject = { performed: cond.performed };
    if (cond.where !== undefined) out.where = conditionToJson(cond.where);
    if (cond.count !== undefined) out.count = { ...cond.count } as JsonObject;
    if (cond.within !== undefined) out.within = cond.within;
    return out;
  }
  return { inSegment: cond.inSegment };
}

/** `["contact", "address", "city"]` for `contact.address.city`; null without a known prefix. */
export function splitPath(property: string): string[] | null {
  if (!property.startsWith('contact.') && !property.startsWith('event.')) return null;
  return property.split('.');
}

function parseDurationAt(value: unknown, path: string): number {
  try {
    return parseDuration(value);
  } catch (e) {
    if (e instanceof DurationError) throw new InvalidConditionError(path, e.message);
    throw e;
  }
}

/** A copy of a JSON value within the value bounds; refuses `__proto__` keys. */
function copyJson(value: unknown, path: string, depth: number, seen: { items: number }): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new InvalidConditionError(path, 'must be a finite number');
  }
  if (typeof value !== 'object') throw new InvalidConditionError(path, 'must be a JSON value');
  if (depth > CONDITION_LIMITS.maxValueDepth) {
    throw new InvalidConditionError(path, `cannot be nested more than ${CONDITION_LIMITS.maxValueDepth} levels deep`);
  }
  const tooMany = (): InvalidConditionError =>
    new InvalidConditionError(path, `cannot have more than ${CONDITION_LIMITS.maxValueItems} items in all`);
  if (Array.isArray(value)) {
    if ((seen.items += value.length) > CONDITION_LIMITS.maxValueItems) throw tooMany();
    return value.map((v, i) => copyJson(v, `${path}[${i}]`, depth + 1, seen));
  }
  const keys = Object.keys(value);
  if ((seen.items += keys.length) > CONDITION_LIMITS.maxValueItems) throw tooMany();
  const out: JsonObject = {};
  for (const k of keys) {
    if (k === '__proto__') throw new InvalidConditionError(path, '"__proto__" is not allowed as a key');
    out[k] = copyJson((value as Record<string, unknown>)[k], join(path, k), depth + 1, seen);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** JSON of a client string, cut to 40 characters for messages. */
function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}
