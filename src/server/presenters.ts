/** Wire shapes of stored objects (SPEC.md read APIs and the official SDK's contact shape). */
import type { ContactRecord, StoredEvent } from '../storage/ports.js';
import { Errors } from './errors.js';

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function presentEvent(e: StoredEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {
    messageId: e.messageId,
    event: e.event,
    email: e.email,
    contactId: e.contactId,
    properties: e.properties ?? {},
    traits: e.traits ?? {},
    timestamp: iso(e.timestamp),
    receivedAt: iso(e.receivedAt),
    status: e.status,
  };
  if (e.error !== null) out.error = e.error;
  return out;
}

export function presentContact(c: ContactRecord): Record<string, unknown> {
  return {
    id: c.id,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    workspaceId: c.workspaceId,
    properties: c.properties,
  };
}

/** Opaque paging cursor: base64url of a JSON array. Returns null for anything malformed. */
export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(raw: string): unknown[] | null {
  if (raw.length > 512) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    return Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
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
