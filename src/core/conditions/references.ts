/**
 * What a parsed condition depends on, so that callers re-evaluate only what can change: a
 * segment whose rule reads `contact.plan` and `performed: "purchase"` needs no work when an
 * event `page` arrives without traits. Pure.
 */
import type { Condition, PerformedCondition } from './condition.js';

export interface ConditionReferences {
  /** Top-level contact property names read (`contact.address.city` → `address`). */
  properties: Set<string>;
  /** Top-level properties of the triggering event read outside `performed.where` (workflows). */
  eventProperties: Set<string>;
  /** Event names under `performed`. */
  events: Set<string>;
  /** Segment ids under `inSegment`. */
  segments: Set<string>;
  /** Every performed node, one per distinct `key`, in document order. */
  performed: PerformedCondition[];
  /**
   * Whether the result can change with the clock alone: a `performed.within` window or a
   * `within_last` test. `before`/`after` compare with a fixed instant, so they are not.
   */
  timeDependent: boolean;
}

/**
 * Contact property names (top level), trigger-event property names, event names under
 * `performed`, segment ids under `inSegment`, every distinct performed node, and whether the
 * result can change with time alone (`within`, `within_last`).
 */
export function references(cond: Condition): ConditionReferences {
  const out: ConditionReferences = {
    properties: new Set(),
    eventProperties: new Set(),
    events: new Set(),
    segments: new Set(),
    performed: [],
    timeDependent: false,
  };
  const keys = new Set<string>();
  const walk = (c: Condition): void => {
    if ('all' in c) c.all.forEach(walk);
    else if ('any' in c) c.any.forEach(walk);
    else if ('not' in c) walk(c.not);
    else if ('property' in c) {
      const [root, name] = c.property.split('.');
      if (name !== undefined) (root === 'contact' ? out.properties : out.eventProperties).add(name);
      if (c.op === 'within_last') out.timeDependent = true;
    } else if ('performed' in c) {
      // `where` reads the counted event, not the contact or the trigger: not walked.
      out.events.add(c.performed);
      if (c.within !== undefined || c.withinMs !== undefined) out.timeDependent = true;
      if (!keys.has(c.key)) {
        keys.add(c.key);
        out.performed.push(c);
      }
    } else out.segments.add(c.inSegment);
  };
  walk(cond);
  return out;
}
