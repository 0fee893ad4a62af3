/**
 * `@smashsend-selfhost/sdk`: a TypeScript client for a self-hosted SMASHSEND Events API server,
 * with the official `@smashsend/node` SDK's surface and an auto-batching tracker.
 */
export { SmashSend, SMASHSEND, DEFAULT_BASE_URL, normalizeBaseUrl } from './client.js';
export { SmashSend as default } from './client.js';
export {
  SmashSendError,
  SMASHSENDError,
  APIError,
  AuthenticationError,
  RateLimitError,
  NetworkError,
  TimeoutError,
} from './errors.js';
export type { SmashSendErrorOptions, BatchItemError, ItemErrorDetail } from './errors.js';
export { Events } from './events.js';
export { Contacts } from './contacts.js';
export { EventTracker, TRACKER_LIMITS, planBatch, batchBodyBytes, utf8ByteLength } from './tracker.js';
export type {
  TrackerOptions,
  TrackerStats,
  TrackFailure,
  TrackFailureReason,
  DropPolicy,
  CloseOptions,
  CloseResult,
} from './tracker.js';
export { computeBackoff, parseRetryAfter, isRetryableStatus, SDK_VERSION } from './http.js';
export type { FetchLike, BackoffOptions } from './http.js';
export type * from './types.js';
