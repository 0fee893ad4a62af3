/**
 * Paging cursors of GET /v1/events and GET /v1/contacts: base64url of a JSON array, opaque
 * to clients. A cursor is decoded strictly: it goes into a keyset condition, and a tampered
 * one (a float, 1e300, a negative number, a string where a number belongs) used to reach
 * PostgreSQL as a bigint parameter and fail there with 22P02/22003, a 500. Anything this
 * server could not have issued reads as null (400 INVALID_CURSOR). Pure.
 */

export interface EventCursor {
  /** Event time (Unix ms) of the last event of the page. */
  timestamp: number;
  /** Its acceptance sequence. */
  seq: number;
}

export interface ContactCursor {
  createdAt: number;
  id: string;
}

/**
 * One page of a keyset-paged list, as the storage ports return it. `next` is where the
 * following page starts (strictly after it), or null when nothing follows. A page may hold
 * fewer than `limit` items and still have a `next`: a filter no index serves is tested on a
 * bounded number of rows per request (storage/read-bounds.ts), so clients page while
 * `hasMore`, never until a short page.
 */
export interface Page<T, K> {
  items: T[];
  next: K | null;
}

/** Longer than any cursor we issue (a contact cursor is ~80 characters). */
const MAX_CURSOR_CHARS = 512;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function encode(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** The JSON array inside a cursor, or null. Buffer.from ignores stray characters, so the alphabet is checked first. */
function decode(raw: string): unknown[] | null {
  if (raw.length === 0 || raw.length > MAX_CURSOR_CHARS || !BASE64URL.test(raw)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

/** A whole number from 0 to 2^53 - 1: what a bigint column and a JavaScript number both hold exactly. */
function isKeyNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

export function encodeEventCursor(c: EventCursor): string {
  return encode([c.timestamp, c.seq]);
}

export function decodeEventCursor(raw: string): EventCursor | null {
  const parts = decode(raw);
  if (parts === null || parts.length !== 2 || !isKeyNumber(parts[0]) || !isKeyNumber(parts[1])) return null;
  return { timestamp: parts[0], seq: parts[1] };
}

export function encodeContactCursor(c: ContactCursor): string {
  return encode([c.createdAt, c.id]);
}

export function decodeContactCursor(raw: string): ContactCursor | null {
  const parts = decode(raw);
  if (parts === null || parts.length !== 2 || !isKeyNumber(parts[0])) return null;
  const id = parts[1];
  // Contact ids are UUIDs; a bounded string without control characters (PostgreSQL text refuses U+0000).
  if (typeof id !== 'string' || id.length === 0 || id.length > 128 || CONTROL_CHARS.test(id)) return null;
  return { createdAt: parts[0], id };
}
