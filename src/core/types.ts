/**
 * Domain types shared by every layer. Pure: no I/O, no clock, no env.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Item error codes of the batch endpoint (SPEC.md), also used as the `code` of single-endpoint 400s. */
export type ItemCode =
  | 'INVALID_EVENT'
  | 'MISSING_EVENT_NAME'
  | 'INVALID_EVENT_NAME'
  | 'EVENT_NAME_TOO_LONG'
  | 'MISSING_IDENTIFY'
  | 'MISSING_EMAIL'
  | 'INVALID_EMAIL'
  | 'INVALID_PROPERTIES'
  | 'PROPERTIES_TOO_DEEP'
  | 'TOO_MANY_PROPERTIES'
  | 'STRING_TOO_LONG'
  | 'ARRAY_TOO_LONG'
  | 'INVALID_ARRAY_ITEM'
  | 'INVALID_TRAITS'
  | 'INVALID_TIMESTAMP'
  | 'TIMESTAMP_OUT_OF_RANGE'
  | 'INVALID_MESSAGE_ID'
  | 'MESSAGE_ID_TOO_LONG'
  | 'PAYLOAD_TOO_LARGE'
  /** Refused by the workspace's tracking plan in block mode (tracking-plan/). */
  | 'TRACKING_PLAN_VIOLATION';

export interface ItemError {
  code: ItemCode;
  message: string;
}

export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

/** An event that passed validation, normalised. */
export interface ValidEvent {
  /** Event name, exactly as sent (case-sensitive). */
  event: string;
  /** Trimmed, lower-cased address: the contact's identity. */
  email: string;
  /** `null` when absent, `null` or `{}`. */
  properties: JsonObject | null;
  /** `null` when absent, `null` or `{}`. */
  traits: JsonObject | null;
  /** Event time in Unix milliseconds: the client's timestamp, or the time of receipt. */
  timestamp: number;
  /** True when the client sent a timestamp (it then takes part in the derived messageId). */
  clientTimestamp: boolean;
  /** The client's messageId, or null when the server must derive one. */
  messageId: string | null;
}

export const CONTACT_STATUSES = ['SUBSCRIBED', 'UNSUBSCRIBED', 'ARCHIVED', 'OPT_IN_PENDING', 'BANNED'] as const;
export type ContactStatus = (typeof CONTACT_STATUSES)[number];

export const EVENT_STATUSES = ['queued', 'processed', 'failed'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];
