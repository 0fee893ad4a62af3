/**
 * What a CatalogStore.record writes, decided the same way on both dialects from what the
 * adapter read inside its transaction: which event names are kept (known ones, and new ones
 * while the workspace has room), which property rows change (known paths gaining a type,
 * new paths while the event has room) and which events lose a path to the limit.
 */
import type { CatalogEventDelta, CatalogLimits, CatalogPropertyDelta } from '../../catalog/catalog-store.port.js';

const SEP = '\u0000';
export const nameKey = (workspaceId: string, name: string): string => workspaceId + SEP + name;
export const pathKey = (workspaceId: string, event: string, path: string): string => workspaceId + SEP + event + SEP + path;

export interface CatalogPlan {
  /** Names to add to (existing) or insert (new), sorted by (workspace, name): rows are locked in one order. */
  events: CatalogEventDelta[];
  /** Property rows to write with their full, merged types, sorted by (workspace, event, path). */
  properties: CatalogPropertyDelta[];
  /** Events that had a new path with no room left. */
  truncated: { workspaceId: string; name: string }[];
  /** Per input property delta: the types stored after the write, 0 when not catalogued. */
  stored: number[];
}

const byName = (a: { workspaceId: string; name: string }, b: { workspaceId: string; name: string }) =>
  a.workspaceId < b.workspaceId ? -1 : a.workspaceId > b.workspaceId ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** Workspaces with a name not yet catalogued: their name count must be read. */
export function workspacesWithNewNames(events: readonly CatalogEventDelta[], existing: ReadonlySet<string>): string[] {
  return [...new Set(events.filter((e) => !existing.has(nameKey(e.workspaceId, e.name))).map((e) => e.workspaceId))].sort();
}

/** (workspace, event) pairs with a path not yet catalogued: their path count must be read. */
export function eventsWithNewPaths(properties: readonly CatalogPropertyDelta[], existing: ReadonlyMap<string, number>): { workspaceId: string; name: string }[] {
  const out = new Map<string, { workspaceId: string; name: string }>();
  for (const p of properties) {
    if (!existing.has(pathKey(p.workspaceId, p.event, p.path))) out.set(nameKey(p.workspaceId, p.event), { workspaceId: p.workspaceId, name: p.event });
  }
  return [...out.values()].sort(byName);
}

export function planCatalog(
  input: { events: readonly CatalogEventDelta[]; properties: readonly CatalogPropertyDelta[]; limits: CatalogLimits },
  read: {
    names: ReadonlySet<string>;
    /** Names catalogued per workspace of workspacesWithNewNames (bounded by the limit). */
    nameCounts: ReadonlyMap<string, number>;
    paths: ReadonlyMap<string, number>;
    /** Paths catalogued per nameKey of eventsWithNewPaths (bounded by the limit). */
    pathCounts: ReadonlyMap<string, number>;
  },
): CatalogPlan {
  const { maxEventNames, maxPropertiesPerEvent } = input.limits;
  const kept = new Set<string>();
  const nameRoom = new Map(read.nameCounts);
  const events: CatalogEventDelta[] = [];
  for (const e of [...input.events].sort(byName)) {
    const k = nameKey(e.workspaceId, e.name);
    if (!read.names.has(k)) {
      const used = nameRoom.get(e.workspaceId) ?? 0;
      if (used >= maxEventNames) continue;
      nameRoom.set(e.workspaceId, used + 1);
    }
    kept.add(k);
    events.push(e);
  }
  const pathRoom = new Map(read.pathCounts);
  const writes = new Map<string, CatalogPropertyDelta>();
  const truncated = new Map<string, { workspaceId: string; name: string }>();
  const stored = input.properties.map((p) => {
    const ek = nameKey(p.workspaceId, p.event);
    if (!kept.has(ek)) return 0;
    const pk = pathKey(p.workspaceId, p.event, p.path);
    const before = writes.get(pk)?.types ?? read.paths.get(pk);
    if (before === undefined) {
      const used = pathRoom.get(ek) ?? 0;
      if (used >= maxPropertiesPerEvent) {
        truncated.set(ek, { workspaceId: p.workspaceId, name: p.event });
        return 0;
      }
      pathRoom.set(ek, used + 1);
      writes.set(pk, { ...p });
      return p.types;
    }
    const merged = before | p.types;
    if (merged !== before) writes.set(pk, { ...p, types: merged });
    return merged;
  });
  const properties = [...writes.values()].sort((a, b) => byName({ workspaceId: a.workspaceId, name: a.event + SEP + a.path }, { workspaceId: b.workspaceId, name: b.event + SEP + b.path }));
  return { events, properties, truncated: [...truncated.values()].sort(byName), stored };
}
