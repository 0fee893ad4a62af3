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
  | 'ALL_EVENTS_FAILED'
  | 'INVALID_QUERY'
  | 'INVALID_URL'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'CONFLICT'
  // ContactLimitCode, spelled out so the docs test sees them:
  | 'TOO_MANY_CONTACT_PROPERTIES'
  | 'CONTACT_TOO_LARGE'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_ERROR';

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
  invalidBody: (message = 'Request body must be a JSON object') => new ApiError(400, 'INVALID_BODY', message),
  invalidBatch: (message: string) => new ApiError(400, 'INVALID_BATCH', message),
  batchTooManyEvents: () => new ApiError(400, 'BATCH_TOO_LARGE', 'Batch cannot exceed 200 events'),
  validation: (code: ItemCode, message: string) => new ApiError(400, code, message),
  invalidQuery: (message: string) => new ApiError(400, 'INVALID_QUERY', message),
  invalidUrl: () => new ApiError(400, 'INVALID_URL', 'The URL is not valid (bad percent-encoding)'),
  unsupportedMediaType: () => new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json'),
  routeNotFound: (method: string, url: string) =>
    new ApiError(404, 'NOT_FOUND', `Route ${method} ${url.split('?')[0]} not found`),
  eventNotFound: () => new ApiError(404, 'NOT_FOUND', 'Event not found'),
  contactNotFound: () => new ApiError(404, 'NOT_FOUND', 'Contact not found'),
  methodNotAllowed: (method: string, allow: string[]) =>
    new ApiError(405, 'METHOD_NOT_ALLOWED', `Method ${method} is not allowed on this path`, { allow: allow.join(', ') }),
  emailTaken: () => new ApiError(409, 'CONFLICT', 'Another contact already has this email'),
  /** 'TOO_MANY_CONTACT_PROPERTIES' | 'CONTACT_TOO_LARGE', message from contactLimitMessage. */
  contactLimit: (code: ContactLimitCode, message: string) => new ApiError(400, code, message),
  serviceUnavailable: () =>
    new ApiError(503, 'SERVICE_UNAVAILABLE', 'Service temporarily unavailable, please retry', { 'retry-after': '1' }),
  overloaded: () =>
    new ApiError(503, 'SERVICE_UNAVAILABLE', 'Server is busy writing earlier events, please retry', { 'retry-after': '1' }),
  internal: () => new ApiError(500, 'INTERNAL_ERROR', 'Internal Server Error'),
} as const;
