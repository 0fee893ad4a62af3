/**
 * Wire types. Names follow the official `@smashsend/node` SDK (`EventPayload`,
 * `SingleEventResponse`, `BatchEventResponse`, `Contact`, `ContactCreateOptions`)
 * so code written against it type-checks against this package.
 */
import type { BatchItemError } from './errors.js';
import type { FetchLike } from './http.js';
import type { TrackerOptions } from './tracker.js';

export type { BatchItemError, ItemErrorDetail } from './errors.js';

/** Contact attributes to merge into the contact (`null` clears a property). */
export interface EventTraits {
  [key: string]: unknown;
}

export interface EventIdentify {
  /** Contact email address (required). Trimmed and lower-cased by the server. */
  email: string;
  /** Contact properties to sync; optional. */
  traits?: EventTraits | null;
}

/** One event, as `POST /v1/events` and each item of `POST /v1/events/batch` take it. */
export interface EventPayload {
  /** 1–60 characters of `[A-Za-z0-9_.:-]`, case-sensitive. */
  event: string;
  identify: EventIdentify;
  /** Event properties: depth ≤ 3, ≤ 100 leaf keys, strings ≤ 1,000 characters, arrays ≤ 100 primitives. */
  properties?: Record<string, unknown> | null;
  /** ISO 8601 string, or Unix seconds (< 1e11) / milliseconds. Defaults to the time of receipt. */
  timestamp?: string | number;
  /** Deduplication key, 1–128 characters. Derived from the content by the server when absent. */
  messageId?: string;
}

export interface BatchEventPayload {
  events: EventPayload[];
}

/** Response of `POST /v1/events`. */
export interface SingleEventResponse {
  success: true;
  messageId: string;
  info?: string;
  /** True when this messageId had already been accepted (nothing stored again). */
  duplicate?: boolean;
}

export interface BatchEventResult {
  index: number;
  messageId: string;
  status: 'accepted' | 'duplicate';
}

/** Response of `POST /v1/events/batch` (200 all accepted, 207 partial). */
export interface BatchEventResponse {
  accepted: number;
  failed: number;
  duplicated: number;
  events: BatchEventResult[];
  errors: BatchItemError[];
}

/** Per-call options of the official SDK's `events.send` / `events.sendBatch`. */
export interface EventTrackingOptions {
  headers?: Record<string, string>;
  /** Request timeout in ms for this call. */
  timeout?: number;
}

export type EventStatus = 'queued' | 'processed' | 'failed';

/** A stored event, as `GET /v1/events/:messageId` and `GET /v1/events` return it. */
export interface StoredEvent {
  messageId: string;
  event: string;
  email: string;
  contactId: string | null;
  properties: Record<string, unknown> | null;
  traits: Record<string, unknown> | null;
  /** Event time, ISO UTC. */
  timestamp: string;
  /** Time of acceptance, ISO UTC. */
  receivedAt: string;
  status: EventStatus;
  error?: string | null;
}

export interface EventListParams {
  email?: string;
  event?: string;
  /** Inclusive lower bound on event time (ISO string, or a Date). */
  since?: string | Date;
  /** Exclusive upper bound on event time. */
  until?: string | Date;
  /** Default 50, at most 1,000. */
  limit?: number;
  cursor?: string;
}

export interface EventListResponse {
  events: { items: StoredEvent[]; cursor?: string | null; hasMore: boolean };
}

export type SmashsendContactStatus = 'SUBSCRIBED' | 'UNSUBSCRIBED' | 'ARCHIVED' | 'OPT_IN_PENDING' | 'BANNED';

export interface Contact {
  id: string;
  createdAt: string;
  updatedAt?: string;
  workspaceId: string;
  properties: {
    email: string;
    firstName?: string | null;
    lastName?: string | null;
    avatarUrl?: string | null;
    birthday?: string | null;
    city?: string | null;
    countryCode?: string | null;
    language?: string | null;
    phone?: string | null;
    status?: SmashsendContactStatus;
    [key: string]: unknown;
  };
}

/**
 * The official SDK's flat contact input: standard properties at the top level, custom ones in
 * `customProperties` (or, here, also directly at the top level). Sent as `{ properties: {...} }`.
 */
export interface ContactCreateOptions {
  email: string;
  firstName?: string | null;
  lastName?: string | null;
  avatarUrl?: string | null;
  /** A Date is sent as its ISO string. */
  birthday?: string | Date | null;
  city?: string | null;
  countryCode?: string | null;
  language?: string | null;
  phone?: string | null;
  status?: SmashsendContactStatus;
  customProperties?: Record<string, unknown>;
  [key: string]: unknown;
}

export type ContactUpdateOptions = Partial<ContactCreateOptions>;

export interface ContactListParams {
  /** Default 50, at most 100. */
  limit?: number;
  cursor?: string;
  sort?: 'createdAt.desc' | 'createdAt.asc';
  /** Case-insensitive substring of email, firstName or lastName. */
  search?: string;
  status?: SmashsendContactStatus | string;
}

export interface ContactListResponse {
  contacts: { items: Contact[]; cursor?: string | null; hasMore: boolean };
}

export interface ContactDeleteResponse {
  isDeleted: boolean;
  /**
   * The erased contact. Null from a self-hosted server when `deleteByEmail` erased only the
   * queued events of an address that had no contact yet.
   */
  contact: Contact | null;
}

/** Options of `new SmashSend(apiKey, options)`; `apiKey` is also accepted here (`new SMASHSEND({ apiKey })`). */
export interface SmashSendClientOptions {
  apiKey?: string;
  /**
   * The server's root URL, default `https://api.smashsend.com`. Point it at your server, e.g.
   * `http://127.0.0.1:3000` (no `/v1`: the SDK adds it; a trailing `/v1` or `/` is dropped).
   * Must be an absolute http(s) URL: anything else throws SmashSendError `invalid_base_url`.
   */
  baseUrl?: string;
  /** Retries of a plain call on 408/429/5xx/network errors. Default 3. */
  maxRetries?: number;
  /** Per-request timeout in ms. Default 30,000. */
  timeout?: number;
  /**
   * Longest wait in ms between two attempts of a plain call. Also the longest `Retry-After` a plain call
   * honours: when the server asks for more, the call fails at once with RateLimitError. Default 30,000.
   */
  maxRetryDelay?: number;
  /** A fetch implementation; default the platform's global `fetch`. */
  fetch?: FetchLike;
  /** Extra headers for every request. */
  headers?: Record<string, string>;
  /** Options of the auto-batching tracker behind `events.track()`. */
  tracker?: TrackerOptions;
}
