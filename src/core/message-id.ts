/**
 * The server-derived messageId of SPEC.md: when a client sends none, the id is a hash of
 * the event's content, so an SDK retry of the same event (the official SDK retries 429/5xx
 * without adding a messageId) is recognised as a duplicate. Pure: hashing is computation.
 */
import { createHash } from 'node:crypto';
import type { JsonObject, JsonValue, ValidEvent } from './types.js';

interface Frame {
  /** The array, or the object whose `keys` are being written. */
  container: JsonValue[] | JsonObject;
  /** Sorted keys for an object, null for an array. */
  keys: string[] | null;
  index: number;
  /** Members written so far (an object's undefined members are skipped, as JSON.stringify does). */
  written: number;
}

/**
 * JSON with object keys sorted by UTF-16 code unit (Array.prototype.sort's default order),
 * no whitespace, and JSON.stringify's scalar formatting (`-0` → `0`, NaN/±Infinity → `null`).
 * Iterative, with an explicit stack: validated input is at most 3 deep, but a deeper value
 * must not overflow the call stack.
 */
export function canonicalJson(value: JsonValue): string {
  let out = '';
  const stack: Frame[] = [];
  let next: unknown = value;
  let pending = true; // `next` holds a value still to be written

  for (;;) {
    if (pending) {
      pending = false;
      if (typeof next === 'object' && next !== null) {
        if (Array.isArray(next)) {
          out += '[';
          stack.push({ container: next as JsonValue[], keys: null, index: 0, written: 0 });
        } else {
          out += '{';
          stack.push({ container: next as JsonObject, keys: Object.keys(next).sort(), index: 0, written: 0 });
        }
      } else {
        // In an array, JSON.stringify writes undefined (or a function) as null.
        out += JSON.stringify(next) ?? 'null';
      }
    }

    const top = stack[stack.length - 1];
    if (top === undefined) return out;

    if (top.keys === null) {
      const arr = top.container as JsonValue[];
      if (top.index < arr.length) {
        if (top.written++ > 0) out += ',';
        next = arr[top.index++];
        pending = true;
      } else {
        out += ']';
        stack.pop();
      }
      continue;
    }

    const obj = top.container as JsonObject;
    while (top.index < top.keys.length) {
      const key = top.keys[top.index++] as string;
      const v: unknown = obj[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      if (top.written++ > 0) out += ',';
      out += JSON.stringify(key) + ':';
      next = v;
      pending = true;
      break;
    }
    if (!pending) {
      out += '}';
      stack.pop();
    }
  }
}

/**
 * `msg_` + the first 32 hex digits (128 bits) of SHA-256 over the canonical JSON of
 * [workspace, event, email, properties, traits, client timestamp]. The receipt time is
 * left out when the client sent no timestamp, so a retry a second later is still a duplicate.
 */
export function deriveMessageId(workspaceId: string, ev: ValidEvent): string {
  const content: JsonValue = [
    workspaceId,
    ev.event,
    ev.email,
    emptyToNull(ev.properties),
    emptyToNull(ev.traits),
    ev.clientTimestamp ? ev.timestamp : null,
  ];
  return 'msg_' + createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex').slice(0, 32);
}

/** ValidEvent already maps `{}` to null; repeated here so the id never depends on the caller. */
function emptyToNull(o: JsonObject | null): JsonObject | null {
  if (o === null) return null;
  for (const key in o) if (Object.prototype.hasOwnProperty.call(o, key)) return o;
  return null;
}
