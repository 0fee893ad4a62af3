/**
 * Table rows and their mapping to domain objects, shared by both adapters: the two schemas
 * have the same tables, columns and meaning (migrations/sqlite and migrations/postgres).
 */
import { DEFAULT_CONTACT_STATUS } from '../core/contact.js';
import { CONTACT_LIMITS, ContactMerge, type ContactState, type PropertyClock } from '../core/merge-properties.js';
import type { EventStatus, JsonObject } from '../core/types.js';
import type { ApiKeyRecord } from '../keys/key-store.port.js';
import type { ClaimedEvent } from '../processing/event-queue.port.js';
import type { ContactRecord } from '../contacts/contact-store.port.js';
import type { StoredEvent } from '../events-read/event-reader.port.js';
import type { AcceptedEvent } from '../activity/activity.port.js';
import { EVENT_STATUS, eventStatusName } from './shared/status.js';
import { sourceField } from './shared/source.js';
import { parseViolations } from './shared/tracking-plan-rows.js';

export interface EventRow {
  id: number;
  workspace_id: string;
  message_id: string;
  event: string;
  email: string;
  properties: string | null;
  traits: string | null;
  ts: number;
  received_at: number;
  status: number;
  attempts: number;
  error: string | null;
  contact_id: string | null;
  source: number;
  violations: string | null;
}

export const EVENT_COLUMNS =
  'id, workspace_id, message_id, event, email, properties, traits, ts, received_at, status, attempts, error, contact_id, source, violations';

/** The stored code of an event status (migrations: 0 queued, 1 processed, 2 failed). */
export function statusCode(status: EventStatus): 0 | 1 | 2 {
  return EVENT_STATUS[status];
}

function parseJsonColumn(text: string | null): JsonObject | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as JsonObject;
  } catch {
    return null; // a corrupt row reads as empty; processing reports it as failed
  }
}

export function toStoredEvent(r: EventRow): StoredEvent {
  return {
    seq: r.id,
    workspaceId: r.workspace_id,
    messageId: r.message_id,
    event: r.event,
    email: r.email,
    contactId: r.contact_id,
    properties: parseJsonColumn(r.properties),
    traits: parseJsonColumn(r.traits),
    timestamp: r.ts,
    receivedAt: r.received_at,
    status: eventStatusName(r.status),
    attempts: r.attempts,
    error: r.error,
    ...sourceField(r.source),
    ...(r.violations != null ? { violations: parseViolations(r.violations) ?? [] } : {}),
  };
}

/** An accepted event for the live view, as acceptedAfter / acceptedIn select it (both adapters). */
export function toAccepted(r: unknown): AcceptedEvent {
  const { seq, messageId, event, email, receivedAt, source } = r as AcceptedEvent & { source: number };
  return { seq: Number(seq), messageId, event, email, receivedAt: Number(receivedAt), ...sourceField(source) };
}

export interface KeyRow {
  id: string;
  workspace_id: string;
  workspace_name: string;
  live_workspace_id: string | null;
  name: string;
  key_prefix: string;
  key_hash: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

// A test key's workspace is a test sibling: its name is the live workspace's (`lw`).
export const KEY_COLUMNS = `k.id, k.workspace_id, COALESCE(lw.name, w.name) AS workspace_name, w.live_workspace_id, k.name,
  k.key_prefix, k.key_hash, k.created_at, k.revoked_at, k.last_used_at`;
/** The joins KEY_COLUMNS reads, after `FROM api_keys k` (or a CTE named k). */
export const KEY_JOINS = 'JOIN workspaces w ON w.id = k.workspace_id LEFT JOIN workspaces lw ON lw.id = w.live_workspace_id';
export const SELECT_KEY = `SELECT ${KEY_COLUMNS} FROM api_keys k ${KEY_JOINS}`;

/**
 * The name of a live workspace's test sibling. Workspace names are unique, and a sibling
 * needs one: this one names the live workspace by id (stable, unlike its name), and is never
 * found by name (ensureWorkspace looks among live workspaces only).
 */
export function testWorkspaceName(liveWorkspaceId: string): string {
  return `${liveWorkspaceId}:test`;
}

export function toKeyRecord(r: KeyRow): ApiKeyRecord {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    workspaceName: r.workspace_name,
    ...(r.live_workspace_id !== null ? { liveWorkspaceId: r.live_workspace_id } : {}),
    name: r.name,
    prefix: r.key_prefix,
    hash: r.key_hash,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}

export interface ContactRow {
  id: string;
  workspace_id: string;
  email: string;
  properties: string;
  clocks: string;
  status: string;
  created_at: number;
  updated_at: number;
}

/** API writes happen "at the time of the call" and win ties against events of the same millisecond. */
export const API_SEQ = Number.MAX_SAFE_INTEGER;

export function toContactRecord(r: ContactRow): ContactRecord {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    email: r.email,
    properties: JSON.parse(r.properties) as JsonObject,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function stateOf(r: ContactRow): ContactState {
  return {
    properties: JSON.parse(r.properties) as JsonObject,
    clocks: JSON.parse(r.clocks) as Record<string, PropertyClock>,
  };
}

/** A row as ContactStore.mergeState answers it. */
export function mergeStateOf(r: ContactRow): { contact: ContactRecord; state: ContactState; jsonChars: number } {
  return { contact: toContactRecord(r), state: stateOf(r), jsonChars: r.properties.length + r.clocks.length };
}

/**
 * A ContactMerge over the row's state: parsed once, its size known from the stored text
 * (nothing re-serialised to learn it). A new contact when there is no row.
 */
export function contactMergeOf(row: ContactRow | undefined, email: string): ContactMerge {
  if (!row) return new ContactMerge(newContactState(email));
  return new ContactMerge(stateOf(row), CONTACT_LIMITS, row.properties.length + row.clocks.length);
}

export function newContactState(email: string): ContactState {
  return { properties: { email, status: DEFAULT_CONTACT_STATUS }, clocks: {} };
}

/** The email is the contact's identity, moved by its own path, never merged as a property. */
export function withoutEmail(properties: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const k of Object.keys(properties)) if (k !== 'email') out[k] = properties[k]!;
  return out;
}

/** What claim() reads of a leased event. */
export interface ClaimRow {
  id: number;
  workspace_id: string;
  email: string;
  traits: string | null;
  ts: number;
  attempts: number;
}

export function toClaimedEvent(r: ClaimRow): ClaimedEvent {
  return { seq: r.id, workspaceId: r.workspace_id, email: r.email, traitsJson: r.traits, timestamp: r.ts, attempts: r.attempts };
}

/** The clocks column as provenance: [event time, acceptance seq] per property; API_SEQ marks an API call. */
export function provenanceOf(clocksJson: string, messageIdOfSeq: ReadonlyMap<number, string>) {
  const clocks = JSON.parse(clocksJson) as Record<string, [number, number]>;
  return Object.entries(clocks).map(([property, [setAt, seq]]) => ({ property, setAt, messageId: seq === API_SEQ ? null : (messageIdOfSeq.get(seq) ?? null) }));
}

/** The event seqs a clocks column names (not API calls). */
export function clockSeqs(clocksJson: string): number[] {
  return [...new Set(Object.values(JSON.parse(clocksJson) as Record<string, [number, number]>).map((c) => c[1]))].filter((s) => s !== API_SEQ);
}
