/**
 * The one catalogue of errors the server sends, and the one renderer. Every error body is
 * SPEC.md's `{statusCode, error, message}` plus `code`. Hooks and routes throw; they never
 * send error text themselves. docs/errors.md lists every entry (a test keeps them in sync).
 */
import { STATUS_CODES } from 'node:http';
import type { ContactLimitCode } from '../core/merge-properties.js';
import type { ItemCode } from '../core/types.js';

export type ErrorCode =
  | ItemCode
  | 'INVALID_API_KEY'
  | 'RATE_LIMITED'
  | 'INVALID_JSON'
  | 'INVALID_BODY'
  | 'INVALID_BATCH'
  | 'BATCH_TOO_LARGE'
  | 'REQUEST_TOO_LARGE'
  | 'ALL_EVENTS_FAILED'
  | 'INVALID_QUERY'
  | 'INVALID_CURSOR'
  | 'INVALID_URL'
  | 'INVALID_REQUEST'
  | 'URI_TOO_LONG'
  | 'HEADERS_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'NOT_FOUND'
  | 'NOT_IMPLEMENTED'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'CONFLICT'
  | 'INVALID_CONDITION'
  | 'INVALID_TRACKING_PLAN'
  | 'SEGMENT_IN_USE'
  | 'UNAUTHENTICATED'
  | 'INVALID_CREDENTIALS'
  | 'FORBIDDEN'
  // ContactLimitCode, spelled out so the docs test sees them:
  | 'TOO_MANY_CONTACT_PROPERTIES'
  | 'CONTACT_TOO_LARGE'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_ERROR';

/**
 * The status each code is answered with (for /openapi.json; errors.test.ts checks it against
 * the factories below). Item codes are 400 on the single endpoint, except an oversized event.
 */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  INVALID_EVENT: 400,
  MISSING_EVENT_NAME: 400,
  INVALID_EVENT_NAME: 400,
  EVENT_NAME_TOO_LONG: 400,
  MISSING_IDENTIFY: 400,
  MISSING_EMAIL: 400,
  INVALID_EMAIL: 400,
  INVALID_PROPERTIES: 400,
  PROPERTIES_TOO_DEEP: 400,
  TOO_MANY_PROPERTIES: 400,
  STRING_TOO_LONG: 400,
  ARRAY_TOO_LONG: 400,
  INVALID_ARRAY_ITEM: 400,
  INVALID_TRAITS: 400,
  INVALID_TIMESTAMP: 400,
  TIMESTAMP_OUT_OF_RANGE: 400,
  INVALID_MESSAGE_ID: 400,
  MESSAGE_ID_TOO_LONG: 400,
  PAYLOAD_TOO_LARGE: 413,
  TRACKING_PLAN_VIOLATION: 400,
  INVALID_TRACKING_PLAN: 400,
  INVALID_API_KEY: 401,
  RATE_LIMITED: 429,
  INVALID_JSON: 400,
  INVALID_BODY: 400,
  INVALID_BATCH: 400,
  BATCH_TOO_LARGE: 400,
  REQUEST_TOO_LARGE: 400,
  ALL_EVENTS_FAILED: 400,
  INVALID_QUERY: 400,
  INVALID_CURSOR: 400,
  INVALID_URL: 400,
  INVALID_REQUEST: 400,
  URI_TOO_LONG: 414,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  NOT_FOUND: 404,
  NOT_IMPLEMENTED: 404,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  CONFLICT: 409,
  INVALID_CONDITION: 400,
  SEGMENT_IN_USE: 409,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  TOO_MANY_CONTACT_PROPERTIES: 400,
  CONTACT_TOO_LARGE: 400,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
};

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code: ErrorCode;
}

export function reasonPhrase(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

export function errorBody(err: ApiError): ErrorBody {
  return { statusCode: err.statusCode, error: reasonPhrase(err.statusCode), message: err.message, code: err.code };
}

/** Every fixed error of the server; `docs/errors.md` must list each code. */
export const Errors = {
  invalidApiKey: () => new ApiError(401, 'INVALID_API_KEY', 'Invalid API key'),
  rateLimited: (retryAfterSeconds: number) =>
    new ApiError(429, 'RATE_LIMITED', 'Rate limit exceeded. Please retry after 60 seconds.', {
      'retry-after': String(retryAfterSeconds),
    }),
  eventTooLarge: () => new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Event payload exceeds 32KB limit'),
  batchTooLarge: () => new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Batch payload exceeds 6.4MB limit'),
  bodyTooLarge: () => new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large'),
  invalidJson: () => new ApiError(400, 'INVALID_JSON', 'Request body is not valid JSON'),
  invalidUtf8: () => new ApiError(400, 'INVALID_JSON', 'Request body is not valid JSON: it is not valid UTF-8'),
  invalidBody: (message = 'Request body must be a JSON object') => new ApiError(400, 'INVALID_BODY', message),
  invalidBatch: (message: string) => new ApiError(400, 'INVALID_BATCH', message),
  batchTooManyEvents: () => new ApiError(400, 'BATCH_TOO_LARGE', 'Batch cannot exceed 200 events'),
  /** The Segment-compatible paths: their limits are 400s, as Segment's own API answers them. */
  segmentTooLarge: (message: string) => new ApiError(400, 'REQUEST_TOO_LARGE', message),
  segmentBatchTooManyEvents: () => new ApiError(400, 'BATCH_TOO_LARGE', 'Batch cannot exceed 2500 events'),
  validation: (code: ItemCode, message: string) => new ApiError(400, code, message),
  invalidQuery: (message: string) => new ApiError(400, 'INVALID_QUERY', message),
  unknownQuery: (name: string, allowed: readonly string[]) =>
    new ApiError(
      400,
      'INVALID_QUERY',
      `Unknown query parameter "${name.slice(0, 100)}"; ${allowed.length ? `this endpoint takes ${allowed.join(', ')}` : 'this endpoint takes none'}`,
    ),
  invalidCursor: () => new ApiError(400, 'INVALID_CURSOR', '"cursor" is not valid: pass back a cursor this endpoint returned'),
  invalidUrl: () => new ApiError(400, 'INVALID_URL', 'The URL is not valid (bad percent-encoding)'),
  /** HTTP the server could not parse (request line, headers, chunked framing), or HTTP/1.1 without Host. */
  invalidRequest: (message = 'Malformed HTTP request') => new ApiError(400, 'INVALID_REQUEST', message, { connection: 'close' }),
  pathParameterTooLong: (max: number) => new ApiError(414, 'URI_TOO_LONG', `Path parameter exceeds ${max} characters`),
  headersTooLarge: () => new ApiError(431, 'HEADERS_TOO_LARGE', 'Request headers are too large', { connection: 'close' }),
  requestTimeout: (ms: number) =>
    new ApiError(408, 'REQUEST_TIMEOUT', `Request was not fully received within ${ms} ms`, { connection: 'close' }),
  bodyStalled: () =>
    new ApiError(408, 'REQUEST_TIMEOUT', 'Request body stalled while the server was busy receiving other requests', { connection: 'close' }),
  unsupportedMediaType: () => new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json'),
  unsupportedEncoding: (encoding: string) =>
    new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Encoding ${JSON.stringify(encoding)} is not supported (use gzip, deflate or none)`),
  undecodableBody: (encoding: string) =>
    new ApiError(400, 'INVALID_BODY', `Request body is not valid ${encoding} data`, { connection: 'close' }),
  routeNotFound: (method: string, url: string) =>
    new ApiError(404, 'NOT_FOUND', `Route ${method} ${url.split('?')[0]} not found`),
  eventNotFound: () => new ApiError(404, 'NOT_FOUND', 'Event not found'),
  contactNotFound: () => new ApiError(404, 'NOT_FOUND', 'Contact not found'),
  /** An unsubscribe token that is malformed, forged, or of no workspace (the link, not the contact). */
  unsubscribeLinkNotFound: () => new ApiError(404, 'NOT_FOUND', 'Unsubscribe link not found'),
  notImplemented: (call: string, method: string, path: string) =>
    new ApiError(404, 'NOT_IMPLEMENTED', `The official SDK's ${call} (${method} ${path}) is not implemented by this server`),
  methodNotAllowed: (method: string, allow: string[]) =>
    new ApiError(405, 'METHOD_NOT_ALLOWED', `Method ${method} is not allowed on this path`, { allow: allow.join(', ') }),
  connectNotAllowed: () => new ApiError(405, 'METHOD_NOT_ALLOWED', 'Method CONNECT is not allowed on this server'),
  /** A workflow's or segment's condition (core/conditions) is invalid; the message names the path. */
  invalidCondition: (message: string) => new ApiError(400, 'INVALID_CONDITION', message),
  /** A tracking plan body (PUT /v1/tracking-plan) that is refused; the message names the path. */
  invalidTrackingPlan: (message: string) => new ApiError(400, 'INVALID_TRACKING_PLAN', message),
  trackingPlanNotFound: () => new ApiError(404, 'NOT_FOUND', 'Tracking plan not found'),
  /** Deleting a segment that workflows or other segments reference (their ids in the message). */
  segmentInUse: (referrers: string[]) =>
    new ApiError(409, 'SEGMENT_IN_USE', `Segment is referenced by ${referrers.slice(0, 20).join(', ')}${referrers.length > 20 ? ', …' : ''}: remove those references first`),
  emailTaken: () => new ApiError(409, 'CONFLICT', 'Another contact already has this email'),
  /** 'TOO_MANY_CONTACT_PROPERTIES' | 'CONTACT_TOO_LARGE', message from contactLimitMessage. */
  contactLimit: (code: ContactLimitCode, message: string) => new ApiError(400, code, message),
  serviceUnavailable: () =>
    new ApiError(503, 'SERVICE_UNAVAILABLE', 'Service temporarily unavailable, please retry', { 'retry-after': '1' }),
  overloaded: () =>
    new ApiError(503, 'SERVICE_UNAVAILABLE', 'Server is busy writing earlier events, please retry', { 'retry-after': '1' }),
  /** MAX_PENDING_BYTES or MAX_CONCURRENT_BATCHES reached. */
  busyReceiving: (what: string) =>
    new ApiError(503, 'SERVICE_UNAVAILABLE', `Server is busy receiving other requests (${what}), please retry`, { 'retry-after': '1' }),
  shuttingDown: () =>
    new ApiError(503, 'SERVICE_UNAVAILABLE', 'Server is shutting down, please retry', { 'retry-after': '1', connection: 'close' }),
  storeRefusesWrites: () =>
    new ApiError(503, 'SERVICE_UNAVAILABLE', 'The store refuses writes (disk full or read-only); events are answered 503', {
      'retry-after': '1',
    }),
  /** The dashboard: no session, or not a user of that workspace. */
  unauthenticated: () => new ApiError(401, 'UNAUTHENTICATED', 'Sign in to the dashboard first'),
  invalidCredentials: () => new ApiError(401, 'INVALID_CREDENTIALS', 'Email or password is incorrect'),
  invalidSetupLink: () => new ApiError(401, 'INVALID_CREDENTIALS', 'This sign-in link is not valid, has expired or was already used'),
  /** A state-changing dashboard request without its CSRF token, or sent from another site. */
  csrf: () => new ApiError(403, 'FORBIDDEN', 'Cross-site request refused (missing or wrong CSRF token)'),
  keyNotFound: () => new ApiError(404, 'NOT_FOUND', 'API key not found'),
  workspaceNotFound: () => new ApiError(404, 'NOT_FOUND', 'Workspace not found'),
  internal: () => new ApiError(500, 'INTERNAL_ERROR', 'Internal Server Error'),
} as const;
