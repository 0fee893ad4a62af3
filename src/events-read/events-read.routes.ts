/** GET /v1/events and /v1/events/:messageId: the read API over stored events. */
import type { FastifyPluginAsync } from 'fastify';
import { parseTimestamp } from '../core/timestamp.js';
import { EVENT_STATUSES, type EventStatus } from '../core/types.js';
import { decodeEventCursor } from '../core/cursor.js';
import { Errors } from '../http/errors.js';
import { page, queryLimit, singleQuery } from '../http/paging.js';
import { queryEmail } from '../http/query.js';
import { GET_EVENT, LIST_EVENTS } from './events-read.docs.js';
import type { Guard } from '../http/route-deps.js';
import type { EventQuery, EventReader } from './event-reader.port.js';
import { presentEvent } from './present-event.js';

export interface EventsReadRoutesOptions {
  events: EventReader;
  guard: Guard;
  clock: () => number;
  /** The workflows an event started or why not (the event trace); absent without the workflows module. */
  workflowTrace?: (workspaceId: string, messageId: string) => Promise<unknown[]>;
}

export function queryTime(name: string, raw: string, now: number): number {
  const value: unknown = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  const r = parseTimestamp(value, now);
  if (!r.ok) throw Errors.invalidQuery(`"${name}" must be an ISO 8601 date or a Unix timestamp within 30 years`);
  return r.value;
}

export const eventsReadRoutes: FastifyPluginAsync<EventsReadRoutesOptions> = async (app, { events, guard, clock, workflowTrace }) => {
  app.get<{ Params: { messageId: string } }>('/v1/events/:messageId', { onRequest: guard('api'), config: { contract: GET_EVENT } }, async (req) => {
    const e = await events.get(req.workspaceId, req.params.messageId);
    if (!e) throw Errors.eventNotFound();
    return workflowTrace ? { event: presentEvent(e), workflows: await workflowTrace(req.workspaceId, e.messageId) } : { event: presentEvent(e) };
  });

  app.get('/v1/events', { onRequest: guard('api'), config: { contract: LIST_EVENTS } }, async (req) => listEvents(events, req.workspaceId, req.query, clock()));
};

/** GET /v1/events (and the dashboard's event list): one page, newest event time first. */
export async function listEvents(events: EventReader, workspaceId: string, rawQuery: unknown, now: number) {
  const q = singleQuery(rawQuery);
  const query: EventQuery = { workspaceId, limit: 50 };
  if (q.email !== undefined) query.email = queryEmail(q.email);
  if (q.event !== undefined) query.event = q.event;
  if (q.status !== undefined) {
    if (!(EVENT_STATUSES as readonly string[]).includes(q.status)) throw Errors.invalidQuery(`"status" must be one of ${EVENT_STATUSES.join(', ')}`);
    query.status = q.status as EventStatus;
  }
  if (q.since !== undefined) query.since = queryTime('since', q.since, now);
  if (q.until !== undefined) query.until = queryTime('until', q.until, now);
  if (q.limit !== undefined) query.limit = queryLimit(q.limit, 1000);
  if (q.cursor !== undefined && q.cursor !== '') {
    const after = decodeEventCursor(q.cursor);
    if (!after) throw Errors.invalidCursor();
    query.after = after;
  }
  const p = page(await events.list(query), (next) => [next.timestamp, next.seq]);
  return { events: { ...p, items: p.items.map(presentEvent) } };
}
