/**
 * events.status, the integer column of both schemas (INTEGER on SQLite, SMALLINT on
 * PostgreSQL): 0 queued, 1 processed, 2 failed, as migrations/<dialect>/0001_init.sql
 * documents it. SQL interpolates these into its text as literals, never as parameters: the
 * partial indexes (events_queue WHERE status = 0, events_failed_by_time WHERE status = 2, the
 * status <> 0 ones) serve only a query whose WHERE names the same constant, which a
 * parameter does not. Values that vary per call (fail(): queued again or failed) stay
 * parameters.
 */
export const EVENT_STATUS = { queued: 0, processed: 1, failed: 2 } as const;

export type EventStatusName = keyof typeof EVENT_STATUS;

const NAMES: readonly EventStatusName[] = ['queued', 'processed', 'failed'];

/** The column's number as the API names it; an unknown number reads as queued. */
export function eventStatusName(status: number): EventStatusName {
  return NAMES[status] ?? 'queued';
}
