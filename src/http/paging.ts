/** Query-string and paging helpers shared by every route plugin. */
import { Errors } from './errors.js';

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Opaque paging cursor: base64url of a JSON array (core/cursor.ts decodes it strictly). */
export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/**
 * Query parameters, each given at most once. A repeated parameter arrives as an array; it is
 * refused by name rather than reaching code that expects a string.
 */
export function singleQuery(query: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (typeof v !== 'string') throw Errors.invalidQuery(`"${k}" must be given once`);
    out[k] = v;
  }
  return out;
}

export function queryLimit(raw: string, max: number): number {
  if (!/^\d+$/.test(raw)) throw Errors.invalidQuery(`"limit" must be a whole number from 1 to ${max}`);
  const n = Number(raw);
  if (n < 1 || n > max) throw Errors.invalidQuery(`"limit" must be a whole number from 1 to ${max}`);
  return n;
}

/**
 * The wire shape of one page (SPEC.md: `{items, cursor, hasMore}`) from a store's page. A
 * page may be short with `hasMore: true` (storage/read-bounds.ts): `hasMore` says whether
 * the store has a `next`, not whether the page is full.
 */
export function page<T, K>(p: { items: T[]; next: K | null }, cursorOf: (next: K) => (string | number)[]) {
  return { items: p.items, cursor: p.next !== null ? encodeCursor(cursorOf(p.next)) : null, hasMore: p.next !== null };
}

/**
 * The same from `limit + 1` rows of a store that reads no more than it returns (one index
 * range, nothing filtered after it): a next page exists when the extra row came back.
 */
export function pageFromRows<T>(rows: T[], limit: number, cursorOf: (last: T) => (string | number)[]) {
  const items = rows.slice(0, limit);
  return page({ items, next: rows.length > limit ? items[items.length - 1]! : null }, cursorOf);
}
