/**
 * Contact properties resolved by event time (SPEC.md "Processing"): each property is a
 * last-writer-wins register keyed by the clock of the event or API call that last set it.
 * Because the winner per key depends only on the clocks, never on the order merges run
 * in, workers may process events in any order and reach the same contact. Pure.
 */
import { canonicalJson } from './message-id.js';
import { CONTACT_STATUSES, type JsonObject, type JsonValue } from './types.js';

/**
 * [event time in Unix ms, acceptance sequence]. The sequence breaks ties between events
 * with the same timestamp: the later-accepted one wins (SPEC.md). Contact API calls use
 * the time of the call.
 */
export type PropertyClock = readonly [timeMs: number, seq: number];

export interface ContactState {
  properties: JsonObject;
  /** Per property, the clock that last set or cleared it; a cleared property keeps its clock (tombstone). */
  clocks: Record<string, PropertyClock>;
}

/** Negative when a is older, 0 when equal, positive when a is newer. */
export function compareClock(a: PropertyClock, b: PropertyClock): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Applies `patch` at `clock`, returning a new state (the input is not modified).
 * A key is applied when `clock` is not older than the key's clock (an unset clock always
 * loses; an equal clock is applied, so re-running an event is harmless). `null` deletes
 * the property but records the clock, so an older event cannot bring the value back.
 * `__proto__` is skipped: `obj[key] =` with it would replace a prototype.
 */
export function mergeProperties(
  state: ContactState,
  patch: JsonObject,
  clock: PropertyClock,
): { state: ContactState; changed: boolean } {
  // Spread copies with CreateDataProperty, so even an own "__proto__" in old state stays data.
  const properties: JsonObject = { ...state.properties };
  const clocks: Record<string, PropertyClock> = { ...state.clocks };
  const stamp: PropertyClock = [clock[0], clock[1]]; // own copy: the caller's array may change
  let changed = false;

  for (const key in patch) {
    if (!hasOwn.call(patch, key) || key === '__proto__') continue;
    const current = hasOwn.call(clocks, key) ? clocks[key] : undefined;
    if (current !== undefined && compareClock(stamp, current) < 0) continue; // backdated: newer value stays

    const value = patch[key] as JsonValue;
    const had = hasOwn.call(properties, key);
    if (value === null) {
      if (had) {
        delete properties[key];
        changed = true;
      }
    } else {
      if (!had || !sameJson(properties[key] as JsonValue, value)) changed = true;
      properties[key] = value;
    }
    if (current === undefined || compareClock(stamp, current) !== 0) {
      clocks[key] = stamp;
      changed = true;
    }
  }
  return { state: { properties, clocks }, changed };
}

/**
 * The contact patch carried by `identify.traits`. `email` is dropped: identity comes from
 * `identify.email` only, so a trait can never move an event's contact. `status` is kept
 * only when it is one of CONTACT_STATUSES (exact, case-sensitive), so no event can store
 * a status the API does not know; `status: null` is dropped too (a contact always has one).
 */
export function patchFromTraits(traits: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const key in traits) {
    if (!hasOwn.call(traits, key) || key === '__proto__' || key === 'email') continue;
    const value = traits[key] as JsonValue;
    if (key === 'status' && !isContactStatus(value)) continue;
    patch[key] = value;
  }
  return patch;
}

function isContactStatus(v: JsonValue): boolean {
  return typeof v === 'string' && (CONTACT_STATUSES as readonly string[]).includes(v);
}

/** Deep JSON equality, key order ignored. Only reached for scalars cheaply or on re-set. */
function sameJson(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return canonicalJson(a) === canonicalJson(b);
}
