/**
 * events.source, an integer column of both schemas (migrations 0017 SQLite, 0016 PostgreSQL):
 * 0 our API, 1 the Segment-compatible paths. In the domain an event of our API has no
 * `source` (the common case, and the shape every event had before the column), a Segment
 * one `source: 'segment'`.
 */
export const EVENT_SOURCE = { api: 0, segment: 1 } as const;

export type EventSource = keyof typeof EVENT_SOURCE;

/** The column's number for an item (absent: our API). */
export function sourceCode(source: 'segment' | undefined): 0 | 1 {
  return source === 'segment' ? EVENT_SOURCE.segment : EVENT_SOURCE.api;
}

/** The domain's optional field from the column: `{ source: 'segment' }` or nothing. */
export function sourceField(code: number | null | undefined): { source?: 'segment' } {
  return Number(code) === EVENT_SOURCE.segment ? { source: 'segment' } : {};
}
