/** The event reader port: the read API over stored events (GET /v1/events, /v1/events/:messageId). */
import type { Page } from '../core/cursor.js';
import type { EventStatus, JsonObject } from '../core/types.js';
import type { Violation } from '../tracking-plan/tracking-plan.js';

export interface StoredEvent {
  /** Acceptance order, unique per store. */
  seq: number;
  workspaceId: string;
  messageId: string;
  event: string;
  email: string;
  contactId: string | null;
  properties: JsonObject | null;
  traits: JsonObject | null;
  timestamp: number;
  receivedAt: number;
  status: EventStatus;
  attempts: number;
  error: string | null;
  /** `segment`: taken by the Segment-compatible paths; absent: our own API. */
  source?: 'segment';
  /** What a warn-mode tracking plan found wrong with it, when anything. */
  violations?: Violation[];
}

export interface EventCursor {
  timestamp: number;
  seq: number;
}

export interface EventQuery {
  workspaceId: string;
  email?: string;
  event?: string;
  status?: EventStatus;
  /** Inclusive, Unix ms. */
  since?: number;
  /** Exclusive, Unix ms. */
  until?: number;
  limit: number;
  /** Continue strictly after this (timestamp desc, seq desc) position. */
  after?: EventCursor;
}

export type EventPage = Page<StoredEvent, EventCursor>;

export interface EventReader {
  /** Newest event with this messageId in the workspace. */
  get(workspaceId: string, messageId: string): Promise<StoredEvent | null>;
  /**
   * Newest event time first, ties by acceptance, newest first; at most `limit` items. Every
   * call is an index seek bounded by its limit (storage/read-bounds.ts): a page may be short
   * and still have a `next`.
   */
  list(query: EventQuery): Promise<EventPage>;
}
