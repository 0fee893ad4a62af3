import type { FastifyInstance } from 'fastify';
import { normalizeEmail } from '../../core/email.js';
import { LIMITS } from '../../core/limits.js';
import { deriveMessageId } from '../../core/message-id.js';
import { parseTimestamp } from '../../core/timestamp.js';
import { itemByteLength } from '../../core/item-size.js';
import type { ItemError, JsonObject, ValidEvent } from '../../core/types.js';
import { SINGLE_INVALID_EMAIL_MESSAGE, validateEvent } from '../../core/validate-event.js';
import { isPlainObject } from '../../core/validate-properties.js';
import type { AppendItem, EventQuery } from '../../storage/ports.js';
import { Errors } from '../errors.js';
import { decodeCursor, encodeCursor, presentEvent, singleQuery } from '../presenters.js';
import type { RouteDeps } from './route-deps.js';

function toAppendItem(workspaceId: string, v: ValidEvent): AppendItem {
  return {
    workspaceId,
    messageId: v.messageId ?? deriveMessageId(workspaceId, v),
    event: v.event,
    email: v.email,
    properties: v.properties === null ? null : JSON.stringify(v.properties),
    traits: v.traits === null ? null : JSON.stringify(v.traits),
    timestamp: v.timestamp,
  };
}

interface BatchEventResult {
  index: number;
  messageId: string;
  status: 'accepted' | 'duplicate';
}

export function eventsRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { store, config, metrics, clock, guard, ingest } = deps;

  app.post(
    '/v1/events',
    { bodyLimit: LIMITS.maxEventBytes, onRequest: guard('single'), config: { tooLarge: 'event' } },
    async (req) => {
      const now = clock();
      if (!isPlainObject(req.body)) {
        metrics.failed.inc({ endpoint: 'single' });
        throw Errors.invalidBody();
      }
      const r = validateEvent(req.body, now);
      if (!r.ok) {
        metrics.failed.inc({ endpoint: 'single' });
        const first = r.error[0]!;
        throw Errors.validation(first.code, first.code === 'INVALID_EMAIL' ? SINGLE_INVALID_EMAIL_MESSAGE : first.message);
      }
      const item = toAppendItem(req.workspaceId, r.value);
      const [outcome] = await ingest.append([item], now, config.dedupWindowMs);
      if (outcome === 'duplicate') {
        metrics.duplicate.inc({ endpoint: 'single' });
        return { success: true, messageId: item.messageId, duplicate: true, info: 'Duplicate event: already accepted, not processed again' };
      }
      metrics.accepted.inc({ endpoint: 'single' });
      return { success: true, messageId: item.messageId, info: 'Event queued for processing' };
    },
  );

  app.post(
    '/v1/events/batch',
    { bodyLimit: LIMITS.maxBatchBytes, onRequest: guard('batch'), config: { tooLarge: 'batch' } },
    async (req, reply) => {
      const now = clock();
      const body = req.body;
      if (!isPlainObject(body)) throw Errors.invalidBody();
      const list = body.events;
      if (list === undefined || list === null) throw Errors.invalidBatch('"events" is required');
      if (!Array.isArray(list)) throw Errors.invalidBatch('"events" must be an array');
      if (list.length === 0) throw Errors.invalidBatch('"events" must contain at least 1 event');
      if (list.length > LIMITS.maxBatchEvents) throw Errors.batchTooManyEvents();

      const errors: { index: number; errors: ItemError[] }[] = [];
      const items: AppendItem[] = [];
      const indexes: number[] = [];
      for (let i = 0; i < list.length; i++) {
        const r = validateEvent(list[i], now);
        if (!r.ok) {
          errors.push({ index: i, errors: r.error });
          continue;
        }
        const item = toAppendItem(req.workspaceId, r.value);
        // Validated items are at most 3 levels deep, so measuring them is safe and bounded.
        if (itemByteLength(list[i] as JsonObject, item.properties, item.traits) > LIMITS.maxEventBytes) {
          errors.push({ index: i, errors: [{ code: 'PAYLOAD_TOO_LARGE', message: 'Event payload exceeds 32KB limit' }] });
          continue;
        }
        items.push(item);
        indexes.push(i);
      }
      const outcomes = items.length ? await ingest.append(items, now, config.dedupWindowMs) : [];
      const events: BatchEventResult[] = [];
      let accepted = 0;
      let duplicated = 0;
      outcomes.forEach((o, k) => {
        if (o === 'accepted') accepted++;
        else duplicated++;
        events.push({ index: indexes[k]!, messageId: items[k]!.messageId, status: o });
      });
      metrics.accepted.inc({ endpoint: 'batch' }, accepted);
      metrics.duplicate.inc({ endpoint: 'batch' }, duplicated);
      metrics.failed.inc({ endpoint: 'batch' }, errors.length);
      const result = { accepted, failed: errors.length, duplicated, events, errors };
      if (errors.length === 0) return result;
      if (items.length > 0) return reply.code(207).send(result);
      // All failed: the same body, plus the error fields so SDKs show a useful message.
      return reply.code(400).send({
        statusCode: 400,
        error: 'Bad Request',
        message: `All ${errors.length} events in the batch failed validation`,
        code: 'ALL_EVENTS_FAILED',
        ...result,
      });
    },
  );

  app.get<{ Params: { messageId: string } }>('/v1/events/:messageId', { onRequest: guard('api') }, async (req) => {
    const e = await store.events.get(req.workspaceId, req.params.messageId);
    if (!e) throw Errors.eventNotFound();
    return { event: presentEvent(e) };
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/v1/events', { onRequest: guard('api') }, async (req) => {
    const q = singleQuery(req.query);
    const now = clock();
    const query: EventQuery = { workspaceId: req.workspaceId, limit: 50 };
    if (q.email !== undefined) {
      const email = normalizeEmail(q.email);
      if (email === null) throw Errors.invalidQuery('"email" must be a valid email');
      query.email = email;
    }
    if (q.event !== undefined) query.event = q.event;
    if (q.since !== undefined) query.since = queryTime('since', q.since, now);
    if (q.until !== undefined) query.until = queryTime('until', q.until, now);
    if (q.limit !== undefined) query.limit = queryLimit(q.limit, 1000);
    if (q.cursor !== undefined && q.cursor !== '') {
      const c = decodeCursor(q.cursor);
      if (!c || c.length !== 2 || typeof c[0] !== 'number' || typeof c[1] !== 'number') throw Errors.invalidQuery('"cursor" is not valid');
      query.after = { timestamp: c[0], seq: c[1] };
    }
    const rows = await store.events.list({ ...query, limit: query.limit + 1 });
    const hasMore = rows.length > query.limit;
    const page = hasMore ? rows.slice(0, query.limit) : rows;
    const last = page[page.length - 1];
    return {
      events: {
        items: page.map(presentEvent),
        cursor: hasMore && last ? encodeCursor([last.timestamp, last.seq]) : null,
        hasMore,
      },
    };
  });
}

export function queryLimit(raw: string, max: number): number {
  if (!/^\d+$/.test(raw)) throw Errors.invalidQuery(`"limit" must be a whole number from 1 to ${max}`);
  const n = Number(raw);
  if (n < 1 || n > max) throw Errors.invalidQuery(`"limit" must be a whole number from 1 to ${max}`);
  return n;
}

function queryTime(name: string, raw: string, now: number): number {
  const value: unknown = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  const r = parseTimestamp(value, now);
  if (!r.ok) throw Errors.invalidQuery(`"${name}" must be an ISO 8601 date or a Unix timestamp within 30 years`);
  return r.value;
}
