/** The event reader port: the read API over stored events (GET /v1/events, /v1/events/:messageId). */
import type { EventStatus, JsonObject } from '../core/types.js';

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

export interface EventReader {
  /** Newest event with this messageId in the workspace. */
  get(workspaceId: string, messageId: string): Promise<StoredEvent | null>;
  /** Newest event time first, ties by acceptance, newest first. */
  list(query: EventQuery): Promise<StoredEvent[]>;
}
