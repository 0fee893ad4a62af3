/** The contact store port: the contacts API's reads and writes (merges by event time live in the event queue's apply). */
import type { Page } from '../core/cursor.js';
import type { ContactLimitCode, ContactState } from '../core/merge-properties.js';
import type { ContactStatus, JsonObject } from '../core/types.js';

export interface ContactRecord {
  id: string;
  workspaceId: string;
  email: string;
  /** All properties including `email` and `status`. */
  properties: JsonObject;
  createdAt: number;
  updatedAt: number;
}

export interface ContactCursor {
  createdAt: number;
  id: string;
}

export interface ContactQuery {
  workspaceId: string;
  limit: number;
  sort: 'createdAt.desc' | 'createdAt.asc';
  search?: string;
  status?: ContactStatus;
  after?: ContactCursor;
}

/**
 * What an erasure removed. `contact` is null when the address had no contact yet, only
 * events not applied to one (queued or failed): those are erased all the same.
 */
export interface ContactErasure {
  contact: ContactRecord | null;
  /** Events deleted with it (any status). */
  events: number;
}

export type ContactMutation =
  | { kind: 'ok'; contact: ContactRecord; created: boolean }
  | { kind: 'not_found' }
  | { kind: 'conflict' }
  | { kind: 'invalid'; message: string }
  /** The write would take the contact beyond one of its limits (LIMITS.maxContact*); nothing was written. */
  | { kind: 'limit'; code: ContactLimitCode; message: string };

/** When a property was last set (or cleared), and by which event: null messageId for an API call, or an erased event. */
export interface PropertyProvenance {
  property: string;
  /** The event time (or the API call's time) of the write that set it, Unix ms. */
  setAt: number;
  messageId: string | null;
}

export interface ContactStore {
  /** POST /v1/contacts: upsert by email, properties timed at `now`. */
  upsert(workspaceId: string, properties: JsonObject, now: number): Promise<ContactMutation>;
  get(workspaceId: string, id: string): Promise<ContactRecord | null>;
  findByEmail(workspaceId: string, email: string): Promise<ContactRecord | null>;
  /**
   * PUT /v1/contacts/:id: merge at `now`; a new email moves the contact (conflict if taken).
   * Events of the old email not applied yet (queued, failed) move with it: they are this
   * contact's, so they are applied to it, and erased with it, never recreate the old address.
   */
  update(workspaceId: string, id: string, properties: JsonObject, now: number): Promise<ContactMutation>;
  /**
   * Erases the contact and every event of it (queued ones included). By email, an address
   * with no contact yet still has its unapplied events erased (`contact: null`). Null when
   * there was nothing to erase.
   */
  delete(workspaceId: string, by: { id: string } | { email: string }): Promise<ContactErasure | null>;
  /**
   * At most `limit` items in the query's sort order; an index seek bounded by its limit
   * (storage/read-bounds.ts): a page may be short and still have a `next`.
   */
  list(query: ContactQuery): Promise<Page<ContactRecord, ContactCursor>>;
  /** Custom property names by name, at most MAX_PROPERTY_NAMES (storage/read-bounds.ts). */
  listPropertyNames(workspaceId: string): Promise<{ name: string; type: string }[]>;
  /** Every property's provenance (cleared ones included), from the clocks the merges keep; null if the contact is unknown. */
  provenance(workspaceId: string, id: string): Promise<PropertyProvenance[] | null>;
  /**
   * The contact and its merge state (properties with their clocks, and the stored JSON's
   * length the limits count), as the event merge reads it: a dry run previews the merge on
   * it (core/trait-preview.ts). Null when the address has no contact.
   */
  mergeState(workspaceId: string, email: string): Promise<{ contact: ContactRecord; state: ContactState; jsonChars: number } | null>;
}
