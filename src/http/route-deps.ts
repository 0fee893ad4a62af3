import type { onRequestAsyncHookHandler } from 'fastify';
import type { RateBucket } from './rate-limit/rate-limiter.js';

/** The authentication + rate-limit hook of a bucket (hooks/auth.hook.ts); every authenticated route takes one. */
export type Guard = (bucket: RateBucket) => onRequestAsyncHookHandler;
