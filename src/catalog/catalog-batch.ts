/**
 * What one processed batch adds to the catalogue, aggregated in memory (pure): per
 * (workspace, event name) the count and the first and last receipt; per property path the
 * set of JSON types seen. The stage then writes the result once (catalog.stage.ts).
 *
 * Types are JSON's: string, number, boolean, object, array, null. There is no separate
 * "integer": JSON.parse gives the same number for `1` and `1.0`, so an integer type could
 * not be told apart reliably, and a count that happens to be whole would look like drift
 * from a decimal one. Paths are dotted (`cart.total`), one segment per object level, up to
 * MAX_PATH_DEPTH levels; arrays are a type of their own and are not entered. The walk is
 * bounded whatever the input (validation already caps events at depth 3 and 100 leaves):
 * at most MAX_PATHS_PER_EVENT paths per event, paths longer than MAX_PATH_CHARS skipped.
 */
import type { CatalogEventDelta, CatalogPropertyDelta } from './catalog-store.port.js';

export const TYPE_BITS = { string: 1, number: 2, boolean: 4, object: 8, array: 16, null: 32 } as const;
export type JsonTypeName = keyof typeof TYPE_BITS;
/** The order types are listed in. */
export const TYPE_NAMES = Object.keys(TYPE_BITS) as JsonTypeName[];

/** Object levels a path descends (LIMITS.maxDepth: deeper objects are refused at ingest). */
export const MAX_PATH_DEPTH = 3;
/** Paths one event contributes (100 leaves + the objects above them fit). */
export const MAX_PATHS_PER_EVENT = 200;
/** A longer path (very long keys) is not catalogued. */
export const MAX_PATH_CHARS = 200;

export function typeBit(v: unknown): number {
  if (v === null) return TYPE_BITS.null;
  switch (typeof v) {
    case 'string':
      return TYPE_BITS.string;
    case 'number':
      return TYPE_BITS.number;
    case 'boolean':
      return TYPE_BITS.boolean;
    case 'object':
      return Array.isArray(v) ? TYPE_BITS.array : TYPE_BITS.object;
    default:
      return 0; // never produced by JSON.parse
  }
}

/** The names of a bit set, in TYPE_NAMES order. */
export function typeNames(bits: number): JsonTypeName[] {
  return TYPE_NAMES.filter((n) => (bits & TYPE_BITS[n]) !== 0);
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Calls `visit(path, bit)` for each path of `obj`, depth-first in key order, within the bounds above. */
export function walkPaths(obj: Record<string, unknown>, visit: (path: string, bit: number) => void): void {
  let budget = MAX_PATHS_PER_EVENT;
  const walk = (o: Record<string, unknown>, prefix: string, level: number): void => {
    for (const key in o) {
      if (!hasOwn.call(o, key)) continue;
      if (budget <= 0) return;
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (path.length > MAX_PATH_CHARS) continue;
      const v = o[key];
      const bit = typeBit(v);
      if (bit === 0) continue;
      budget--;
      visit(path, bit);
      if (bit === TYPE_BITS.object && level < MAX_PATH_DEPTH) walk(v as Record<string, unknown>, path, level + 1);
    }
  };
  walk(obj, '', 1);
}

export interface BatchEvent {
  workspaceId: string;
  event: string;
  receivedAt: number;
  properties: Record<string, unknown> | null;
}

export interface CatalogBatch {
  events: CatalogEventDelta[];
  properties: CatalogPropertyDelta[];
}

const SEP = '\u0000';

/** Aggregates the events of one batch: one delta per (workspace, name), one per (workspace, name, path). */
export function aggregateBatch(events: readonly BatchEvent[]): CatalogBatch {
  const names = new Map<string, CatalogEventDelta>();
  const props = new Map<string, CatalogPropertyDelta>();
  for (const e of events) {
    const key = e.workspaceId + SEP + e.event;
    const d = names.get(key);
    if (d) {
      d.count++;
      if (e.receivedAt < d.firstSeen) d.firstSeen = e.receivedAt;
      if (e.receivedAt > d.lastSeen) d.lastSeen = e.receivedAt;
    } else {
      names.set(key, { workspaceId: e.workspaceId, name: e.event, count: 1, firstSeen: e.receivedAt, lastSeen: e.receivedAt });
    }
    if (e.properties === null) continue;
    walkPaths(e.properties, (path, bit) => {
      const pk = key + SEP + path;
      const p = props.get(pk);
      if (p) p.types |= bit;
      else props.set(pk, { workspaceId: e.workspaceId, event: e.event, path, types: bit });
    });
  }
  return { events: [...names.values()], properties: [...props.values()] };
}
