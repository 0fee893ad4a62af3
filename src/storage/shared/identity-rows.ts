/** The identity tables' rows and the alias walk, shared by both adapters. */
import { MAX_ALIAS_HOPS, type HeldEvent } from '../../ingest/segment/identity-store.port.js';

export interface LinkRow {
  id: string;
  email: string | null;
  alias_of: string | null;
  linked_at: number | string;
}

export interface HeldRow {
  seq: number | string;
  workspace_id: string;
  message_id: string;
  event: string;
  properties: string | null;
  traits: string | null;
  ts: number | string;
  received_at: number | string;
  user_id: string | null;
  anonymous_id: string | null;
  violations: string | null;
}

export const HELD_COLUMNS = 'seq, workspace_id, message_id, event, properties, traits, ts, received_at, user_id, anonymous_id, violations';

export function toHeldEvent(r: HeldRow): HeldEvent {
  return {
    seq: Number(r.seq),
    workspaceId: r.workspace_id,
    messageId: r.message_id,
    event: r.event,
    properties: r.properties,
    traits: r.traits,
    timestamp: Number(r.ts),
    receivedAt: Number(r.received_at),
    userId: r.user_id,
    anonymousId: r.anonymous_id,
    ...(r.violations != null ? { violations: r.violations } : {}),
  };
}

/** At most this many ids per IN list / ANY array (SQLite's default limit on parameters is 32,766). */
export const MAX_IDS_PER_QUERY = 500;

/**
 * One round of the alias walk: for the ids being looked up (`frontier`: id → the original
 * ids that lead to it), records the emails found and returns the next frontier.
 */
function resolveStep(frontier: Map<string, string[]>, rows: LinkRow[], out: Map<string, string>): Map<string, string[]> {
  const next = new Map<string, string[]>();
  for (const row of rows) {
    const origins = frontier.get(row.id);
    if (!origins) continue;
    if (row.email !== null) for (const o of origins) out.set(o, row.email);
    else if (row.alias_of !== null) next.set(row.alias_of, [...(next.get(row.alias_of) ?? []), ...origins]);
  }
  return next;
}

function chunks(ids: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_QUERY) out.push(ids.slice(i, i + MAX_IDS_PER_QUERY));
  return out;
}

function startFrontier(ids: string[]): Map<string, string[]> {
  return new Map([...new Set(ids)].map((id) => [id, [id]]));
}

/**
 * Resolves ids to emails by following alias links: each round reads the links of the ids
 * still unresolved (one query per 500), at most 1 + MAX_ALIAS_HOPS rounds, so a cycle ends.
 * Synchronous, for SQLite (inside a transaction); resolveIdsAsync is the same for PostgreSQL.
 */
export function resolveIds(ids: string[], fetch: (ids: string[]) => LinkRow[]): Map<string, string> {
  const out = new Map<string, string>();
  let frontier = startFrontier(ids);
  for (let hop = 0; hop <= MAX_ALIAS_HOPS && frontier.size > 0; hop++) {
    frontier = resolveStep(frontier, chunks([...frontier.keys()]).flatMap(fetch), out);
  }
  return out;
}

export async function resolveIdsAsync(ids: string[], fetch: (ids: string[]) => Promise<LinkRow[]>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let frontier = startFrontier(ids);
  for (let hop = 0; hop <= MAX_ALIAS_HOPS && frontier.size > 0; hop++) {
    const rows: LinkRow[] = [];
    for (const c of chunks([...frontier.keys()])) rows.push(...(await fetch(c)));
    frontier = resolveStep(frontier, rows, out);
  }
  return out;
}

/** Ids whose alias links lead to `id`, breadth first, at most MAX_ALIAS_HOPS steps and 1,000 ids (sync: SQLite). */
export function walkAliases(id: string, fetch: (targets: string[]) => string[]): string[] {
  const seen = new Set<string>([id]);
  let frontier = [id];
  for (let hop = 0; hop < MAX_ALIAS_HOPS && frontier.length > 0 && seen.size < 1000; hop++) {
    const next: string[] = [];
    for (const a of chunks(frontier).flatMap(fetch)) if (!seen.has(a)) seen.add(a), next.push(a);
    frontier = next;
  }
  seen.delete(id);
  return [...seen];
}

export async function walkAliasesAsync(id: string, fetch: (targets: string[]) => Promise<string[]>): Promise<string[]> {
  const seen = new Set<string>([id]);
  let frontier = [id];
  for (let hop = 0; hop < MAX_ALIAS_HOPS && frontier.length > 0 && seen.size < 1000; hop++) {
    const next: string[] = [];
    for (const c of chunks(frontier)) for (const a of await fetch(c)) if (!seen.has(a)) seen.add(a), next.push(a);
    frontier = next;
  }
  seen.delete(id);
  return [...seen];
}
