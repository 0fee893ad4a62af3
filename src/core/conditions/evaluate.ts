/**
 * Evaluation of a parsed Condition (condition.ts) for one contact at one instant. Pure: the
 * caller supplies the contact, the triggering event, `now`, and callbacks for what needs
 * storage (event counts, segment membership). Expects the output of parseCondition (its
 * bounds keep the recursion here at most 16 deep; its value checks mean no type checks on
 * `value` here).
 *
 * Semantics (decided where SPEC.md is silent, to match what a user writing a rule expects):
 * - Paths: `contact.a.b` reads `contact.a`, then its member `b`; dots descend into objects
 *   only (an array is not indexed by `.0`). Only own properties are read, so
 *   `contact.constructor` or `contact.toString` is missing, not a function.
 * - Missing: a path that leads nowhere, and a `null` value (a null trait clears a property,
 *   so null and absent are one state). `exists` is true when the value is present and not
 *   null, `not_exists` the reverse. Every other operator is false on a missing value, except
 *   `neq`, which is exactly `not eq`: `{"property": "contact.plan", "op": "neq", "value":
 *   "pro"}` matches contacts without a plan (add `exists` to require one).
 * - `eq` is strict JSON equality: no coercion (`5` ≠ `"5"`, `true` ≠ `"true"`), strings
 *   case-sensitive, objects equal when they have the same members (any order), arrays
 *   element by element.
 * - `gt`/`gte`/`lt`/`lte` with a number compare numbers only (a numeric string is not a
 *   number: false). With an ISO date value they compare dates, the property being an ISO
 *   string or a Unix number; anything else is false.
 * - `contains`: on a string property, a case-sensitive substring (the value must be a
 *   string); on an array property, some element equal to the value (as `eq`); else false.
 * - `starts_with`: string property, case-sensitive prefix; else false.
 * - `in`: the property equals (as `eq`) one of the listed values; an array property is not
 *   unpacked (use `contains` for "tags has x").
 * - `before`/`after`: the property's date is strictly earlier/later than the value's. Dates
 *   are ISO 8601 strings or Unix numbers, numbers below 1e11 being seconds and others
 *   milliseconds (as event timestamps: timestamp.ts). A property that is not a date: false.
 * - `within_last`: the property's date is in [now − duration, now], both ends included; a
 *   future date is not "within the last" anything.
 * - `performed`: `count` (default `{gte: 1}`) is tested against `ctx.performedCount(node)`.
 *   With `within`, the events counted are those whose timestamp is at least
 *   `now − withinMs` (performedWindowStart); an event dated slightly ahead of `now` (client
 *   clock skew) has still happened and counts.
 */
import { parseDuration } from '../duration.js';
import { parseInstant } from '../timestamp.js';
import type { Condition, CountBounds, PerformedCondition, PropertyCondition } from './condition.js';
import { DEFAULT_COUNT } from './condition.js';

export interface EvalContext {
  /** The contact's properties plus `email`, `status`, `id` etc. as the read API shows them. */
  contact: Record<string, unknown> | null;
  /** The triggering event (workflows): its properties are what `event.<name>` paths read. */
  event?: { name: string; properties: Record<string, unknown> | null; timestamp: number } | null;
  now: number;
  /**
   * How many of the contact's events match this `performed` node (name, where, within
   * relative to `now`: see performedWindowStart); supplied by the caller (prefetched).
   * Nodes with the same `key` always have the same count.
   */
  performedCount(node: PerformedCondition): number;
  inSegment(segmentId: string): boolean;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export function evaluate(cond: Condition, ctx: EvalContext): boolean {
  if ('all' in cond) {
    for (const c of cond.all) if (!evaluate(c, ctx)) return false;
    return true;
  }
  if ('any' in cond) {
    for (const c of cond.any) if (evaluate(c, ctx)) return true;
    return false;
  }
  if ('not' in cond) return !evaluate(cond.not, ctx);
  if ('property' in cond) {
    return matchProperty(cond, readPath(cond.property, ctx.contact, ctx.event?.properties ?? null), ctx.now);
  }
  if ('performed' in cond) return countSatisfies(cond.count ?? DEFAULT_COUNT, ctx.performedCount(cond));
  return ctx.inSegment(cond.inSegment);
}

/**
 * For a single event, whether it matches a `performed` node's name and `where` (used to
 * maintain counters incrementally). Ignores `within` and `count`: see performedWindowStart.
 * Never depends on the clock (parseCondition refuses `within_last` inside `where`).
 */
export function eventMatchesPerformed(
  node: PerformedCondition,
  event: { name: string; properties: Record<string, unknown> | null },
): boolean {
  if (event.name !== node.performed) return false;
  if (node.where === undefined) return true;
  return evaluate(node.where, {
    contact: null,
    event: { name: event.name, properties: event.properties, timestamp: 0 },
    now: Number.NaN,
    performedCount: unreachable,
    inSegment: unreachable,
  });
}

function unreachable(): never {
  throw new Error('performed.where cannot hold "performed" or "inSegment" (parseCondition refuses them)');
}

/** Whether `n` matching events satisfy `count` (every bound given must hold). */
export function countSatisfies(count: Readonly<CountBounds>, n: number): boolean {
  if (count.eq !== undefined && n !== count.eq) return false;
  if (count.gte !== undefined && n < count.gte) return false;
  if (count.lte !== undefined && n > count.lte) return false;
  return true;
}

/**
 * The earliest event timestamp a `performed` node counts at `now` (inclusive), or
 * -Infinity without `within`. An event with timestamp `t` stops counting at
 * `t + withinMs + 1`: that is when a contact whose membership depends on it must be
 * re-evaluated.
 */
export function performedWindowStart(node: PerformedCondition, now: number): number {
  const ms = withinMsOf(node);
  return ms === undefined ? Number.NEGATIVE_INFINITY : now - ms;
}

/** The first instant at which an event of timestamp `t` no longer counts for `node`; null without `within`. */
export function performedExpiry(node: PerformedCondition, t: number): number | null {
  const ms = withinMsOf(node);
  return ms === undefined ? null : t + ms + 1;
}

function withinMsOf(node: PerformedCondition): number | undefined {
  return node.withinMs ?? (node.within === undefined ? undefined : parseDuration(node.within));
}

/**
 * The earliest instant after `now` at which a `within_last` test of this condition changes
 * result by the clock alone (the contact and event unchanged): a future date entering its
 * window, or a date leaving it. Null when none can. `performed.within` windows are not
 * included: they depend on event timestamps the caller holds (performedExpiry).
 */
export function nextPropertyChangeAt(
  cond: Condition,
  ctx: Pick<EvalContext, 'contact' | 'event' | 'now'>,
): number | null {
  let next: number | null = null;
  const consider = (t: number): void => {
    if (t > ctx.now && (next === null || t < next)) next = t;
  };
  const walk = (c: Condition): void => {
    if ('all' in c) c.all.forEach(walk);
    else if ('any' in c) c.any.forEach(walk);
    else if ('not' in c) walk(c.not);
    else if ('property' in c && c.op === 'within_last') {
      const t = parseInstant(readPath(c.property, ctx.contact, ctx.event?.properties ?? null));
      if (t === null) return;
      consider(t); // enters at t (true from t on)
      consider(t + parseDuration(c.value) + 1); // leaves after t + duration
    }
  };
  walk(cond);
  return next;
}

/** The value at a `contact.…` / `event.…` path, or undefined when missing or null. */
export function readPath(
  property: string,
  contact: Record<string, unknown> | null,
  eventProperties: Record<string, unknown> | null,
): unknown {
  const segments = property.split('.');
  let cur: unknown = segments[0] === 'contact' ? contact : segments[0] === 'event' ? eventProperties : undefined;
  for (let i = 1; i < segments.length; i++) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    const k = segments[i] as string;
    if (!hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur === null ? undefined : cur;
}

function matchProperty(node: PropertyCondition, v: unknown, now: number): boolean {
  const value = node.value;
  switch (node.op) {
    case 'exists':
      return v !== undefined;
    case 'not_exists':
      return v === undefined;
    case 'neq':
      return v === undefined || !jsonEqual(v, value);
    default:
      break;
  }
  if (v === undefined) return false;
  switch (node.op) {
    case 'eq':
      return jsonEqual(v, value);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const d = compare(v, value);
      if (d === null) return false;
      if (node.op === 'gt') return d > 0;
      if (node.op === 'gte') return d >= 0;
      if (node.op === 'lt') return d < 0;
      return d <= 0;
    }
    case 'contains':
      if (typeof v === 'string') return typeof value === 'string' && v.includes(value);
      if (Array.isArray(v)) return v.some((e) => jsonEqual(e, value));
      return false;
    case 'starts_with':
      return typeof v === 'string' && typeof value === 'string' && v.startsWith(value);
    case 'in':
      return Array.isArray(value) && value.some((e) => jsonEqual(v, e));
    case 'before':
    case 'after': {
      const t = parseInstant(v);
      const ref = parseInstant(value);
      if (t === null || ref === null) return false;
      return node.op === 'before' ? t < ref : t > ref;
    }
    case 'within_last': {
      const t = parseInstant(v);
      if (t === null) return false;
      return t <= now && t >= now - parseDuration(value);
    }
    default:
      return false;
  }
}

/** Sign of property − value: numbers with a number value, dates with a date value; else null. */
function compare(v: unknown, value: unknown): number | null {
  if (typeof value === 'number') return typeof v === 'number' ? v - value : null;
  const ref = parseInstant(value);
  const t = typeof v === 'string' || typeof v === 'number' ? parseInstant(v) : null;
  return ref === null || t === null ? null : t - ref;
}

/**
 * Strict JSON equality. Recurses only while both sides are containers, so its depth is
 * bounded by the condition's value (at most 4 deep), whatever the property holds.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!hasOwn(b, k) || !jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
