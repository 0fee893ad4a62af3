/**
 * What a merge of traits would do to a contact, key by key, without writing it: the dry run's
 * `contact.changes`. The decision is ContactMerge.apply's own (it reports each key's fate),
 * run on a copy of the stored state, so a preview and live processing cannot disagree. Pure.
 */
import { CONTACT_LIMITS, ContactMerge, contactLimitMessage, droppedTraitReason, patchFromTraits, type ContactState, type PropertyClock, type TraitDecision } from './merge-properties.js';
import type { JsonObject, JsonValue } from './types.js';

export interface TraitChange {
  property: string;
  /** The stored value (null when unset). */
  from: JsonValue;
  /** The trait's value (null clears). */
  to: JsonValue;
  applied: boolean;
  reason?: string;
}

export const OLDER_REASON = 'older than the stored value';

function reasonOf(d: Exclude<TraitDecision, 'applied'>): string {
  return d === 'older' ? OLDER_REASON : contactLimitMessage(d);
}

/**
 * Previews merging `traits` at `clock` into `state` (not modified). Returns the changes in the
 * traits' key order and the state after the merge (the contact conditions would then see).
 */
export function previewTraits(
  state: ContactState,
  jsonChars: number | undefined,
  traits: JsonObject | null,
  clock: PropertyClock,
): { changes: TraitChange[]; after: ContactState } {
  // Shallow copies are enough: apply() replaces values, it never changes one in place.
  const merge = new ContactMerge({ properties: { ...state.properties }, clocks: { ...state.clocks } }, CONTACT_LIMITS, jsonChars);
  if (traits === null) return { changes: [], after: merge.state };
  const decisions = new Map<string, TraitDecision>();
  merge.apply(patchFromTraits(traits), clock, (key, d) => decisions.set(key, d));
  const changes: TraitChange[] = [];
  for (const key of Object.keys(traits)) {
    const to = traits[key] as JsonValue;
    const from = Object.prototype.hasOwnProperty.call(state.properties, key) ? (state.properties[key] as JsonValue) : null;
    const dropped = droppedTraitReason(key, to);
    const d = dropped === null ? decisions.get(key) : undefined;
    if (dropped !== null || d === undefined) changes.push({ property: key, from, to, applied: false, reason: dropped ?? 'not applied' });
    else if (d === 'applied') changes.push({ property: key, from, to, applied: true });
    else changes.push({ property: key, from, to, applied: false, reason: reasonOf(d) });
  }
  return { changes, after: merge.state };
}
