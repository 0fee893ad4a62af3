/**
 * Segment (and RudderStack) calls → our event (SPEC.md "Segment-compatible ingestion").
 * Pure: the receipt time comes in as an argument. The output is our event body, which the
 * caller validates with the same validateEvent as our own endpoints, once it knows the email.
 *
 * - `track` → the event name made to fit our rule: each run of characters outside
 *   `[A-Za-z0-9_.:-]` becomes `_`, then cut to 60 (`Order Completed` → `Order_Completed`).
 * - `page` / `screen` → event `page` / `screen`, the call's `properties` plus its `name`
 *   (and `category` for page) as properties.
 * - `identify` → event `identify` whose `traits` merge into the contact.
 * - `group` → event `group`, `groupId` and the group's traits as properties.
 * - `alias` → no event: a link from `previousId` to `userId`.
 * - `timestamp` corrected for the client's clock skew with `sentAt`:
 *   `receivedAt − (sentAt − timestamp)`.
 * - `messageId`: the call's; when absent, one derived from the call's content (before the
 *   skew correction, which differs between retries), so a retry is still a duplicate.
 */
import { createHash } from 'node:crypto';
import { normalizeEmail } from '../email.js';
import { canonicalJson } from '../message-id.js';
import { parseTimestamp } from '../timestamp.js';
import type { ItemError, JsonObject, JsonValue, Result } from '../types.js';
import { isPlainObject } from '../validate-properties.js';

export const SEGMENT_CALL_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentCallType = (typeof SEGMENT_CALL_TYPES)[number];

/** Segment's own limits (its HTTP API documentation). */
export const SEGMENT_LIMITS = {
  /** One call, and one event inside a batch: 32 KB. */
  maxEventBytes: 32 * 1024,
  /** One request: 500 KB. */
  maxRequestBytes: 500 * 1024,
  maxBatchEvents: 2500,
  /** userId, anonymousId, previousId, groupId: longer ones are refused (ours, Segment sets none). */
  maxIdChars: 256,
} as const;

/** The event name rule of SPEC.md, applied to a Segment name. */
export function segmentEventName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.:-]+/g, '_').slice(0, 60);
}

/** Our event body (validateEvent's input), without `identify.email`. */
export interface MappedBody {
  event: unknown;
  traits: unknown;
  properties: unknown;
  /** Unix ms after the skew correction, or the client's value when it does not parse (for the validator's error). */
  timestamp: unknown;
  messageId: unknown;
}

export interface MappedCall {
  type: SegmentCallType;
  /** Null for `alias` (it makes no event). */
  body: MappedBody | null;
  /**
   * The first of traits.email, context.traits.email, properties.email (as sent; validated
   * with the event), else userId when it is an email. Null: resolve through the links.
   */
  email: string | null;
  userId: string | null;
  anonymousId: string | null;
  /** `alias` only. */
  previousId: string | null;
  /** Event time used for links (Unix ms): the corrected timestamp, or the receipt time. */
  at: number;
}

export interface CallContext {
  receivedAt: number;
  /** The path's call type (`/v1/track`), or null for a batch item (its `type` says). */
  type: SegmentCallType | null;
  /** A batch's own `sentAt` and `context`, used when the item has none. */
  sentAt?: unknown;
  context?: unknown;
}

const invalid = (message: string): Result<MappedCall, ItemError> => ({ ok: false, error: { code: 'INVALID_EVENT', message } });

/** A Segment id (string, or a finite number as analytics-node allows); undefined/null/'' is absent; anything else an error. */
function idOf(v: unknown, field: string): { ok: true; id: string | null } | { ok: false; message: string } {
  if (v === undefined || v === null || v === '') return { ok: true, id: null };
  if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, id: String(v) };
  if (typeof v !== 'string') return { ok: false, message: `"${field}" must be a string` };
  if (v.length > SEGMENT_LIMITS.maxIdChars) return { ok: false, message: `"${field}" cannot exceed ${SEGMENT_LIMITS.maxIdChars} characters` };
  // U+0000 cannot be stored in PostgreSQL text; a lone surrogate has no UTF-8 form.
  if (v.includes('\u0000') || !v.isWellFormed()) return { ok: false, message: `"${field}" is not valid text` };
  return { ok: true, id: v };
}

function emailField(bag: unknown): string | null {
  if (!isPlainObject(bag)) return null;
  const e = bag.email;
  return typeof e === 'string' && e.trim() !== '' ? e : null;
}

function hashId(content: JsonValue): string {
  return 'msg_' + createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex').slice(0, 32);
}

/** The skew-corrected event time, or the client's value when it does not parse. */
function eventTime(timestamp: unknown, sentAt: unknown, receivedAt: number): unknown {
  if (timestamp === undefined || timestamp === null) return receivedAt;
  const t = parseTimestamp(timestamp, receivedAt);
  if (!t.ok) return timestamp;
  if (sentAt === undefined || sentAt === null) return t.value;
  const s = parseTimestamp(sentAt, receivedAt);
  if (!s.ok) return t.value;
  return receivedAt - (s.value - t.value);
}

/** Maps one call; an error is the item's `rejected` entry. */
export function mapSegmentCall(raw: unknown, ctx: CallContext): Result<MappedCall, ItemError> {
  if (!isPlainObject(raw)) return invalid('Each call must be an object');
  const typeValue = ctx.type ?? raw.type;
  if (typeof typeValue !== 'string' || !(SEGMENT_CALL_TYPES as readonly string[]).includes(typeValue)) {
    return invalid(`"type" must be one of ${SEGMENT_CALL_TYPES.join(', ')}`);
  }
  const type = typeValue as SegmentCallType;

  const user = idOf(raw.userId, 'userId');
  if (!user.ok) return invalid(user.message);
  const anonymous = idOf(raw.anonymousId, 'anonymousId');
  if (!anonymous.ok) return invalid(anonymous.message);
  const userId = user.id;
  const anonymousId = anonymous.id;

  const sentAt = raw.sentAt ?? ctx.sentAt;
  const timestamp = eventTime(raw.timestamp, sentAt, ctx.receivedAt);
  const at = typeof timestamp === 'number' ? timestamp : ctx.receivedAt;
  const messageId =
    raw.messageId !== undefined && raw.messageId !== null
      ? raw.messageId
      : hashId([
          type,
          (raw.event ?? null) as JsonValue,
          (raw.name ?? null) as JsonValue,
          userId,
          anonymousId,
          (raw.previousId ?? null) as JsonValue,
          (raw.groupId ?? null) as JsonValue,
          (raw.properties ?? null) as JsonValue,
          (raw.traits ?? null) as JsonValue,
          (raw.timestamp ?? null) as JsonValue,
        ]);

  if (type === 'alias') {
    const previous = idOf(raw.previousId, 'previousId');
    if (!previous.ok) return invalid(previous.message);
    if (previous.id === null) return invalid('"previousId" is required');
    if (userId === null) return invalid('"userId" is required');
    return { ok: true, value: { type, body: null, email: null, userId, anonymousId, previousId: previous.id, at } };
  }
  if (userId === null && anonymousId === null) return invalid('"userId" or "anonymousId" is required');

  const context = raw.context ?? ctx.context;
  const properties = raw.properties;
  let event: unknown;
  let props: unknown = properties;
  let traits: unknown = null;
  let traitsForEmail: unknown = null;
  switch (type) {
    case 'track':
      event = typeof raw.event === 'string' ? segmentEventName(raw.event) : raw.event;
      break;
    case 'identify':
      event = 'identify';
      traits = raw.traits;
      traitsForEmail = raw.traits;
      break;
    case 'page':
    case 'screen': {
      event = type;
      const extra: JsonObject = {};
      if (raw.name !== undefined && raw.name !== null) extra.name = raw.name as JsonValue;
      if (type === 'page' && raw.category !== undefined && raw.category !== null) extra.category = raw.category as JsonValue;
      // The call's name wins over a `name` property (analytics.js puts the page's in both).
      props = properties === undefined || properties === null ? (Object.keys(extra).length ? extra : null) : isPlainObject(properties) ? { ...properties, ...extra } : properties;
      break;
    }
    case 'group': {
      event = 'group';
      const group = idOf(raw.groupId, 'groupId');
      if (!group.ok) return invalid(group.message);
      if (group.id === null) return invalid('"groupId" is required');
      const groupTraits = raw.traits;
      if (groupTraits !== undefined && groupTraits !== null && !isPlainObject(groupTraits)) {
        return { ok: false, error: { code: 'INVALID_PROPERTIES', message: '"traits" must be an object' } };
      }
      // The group's traits describe the group (a company's email is not the user's).
      props = { ...(groupTraits ?? {}), groupId: group.id };
      break;
    }
  }

  // SPEC.md's order of the sources of the email.
  let email = emailField(traitsForEmail) ?? emailField(isPlainObject(context) ? context.traits : null) ?? emailField(properties);
  if (email === null && userId !== null && normalizeEmail(userId) !== null) email = userId;
  return {
    ok: true,
    value: { type, body: { event, traits, properties: props, timestamp, messageId }, email, userId, anonymousId, previousId: null, at },
  };
}
