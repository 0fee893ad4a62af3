import type { onRequestAsyncHookHandler } from 'fastify';
import type { Config } from '../../config/load-config.js';
import type { Store } from '../../storage/ports.js';
import type { IngestGate } from '../ingest-gate.js';
import type { Metrics } from '../metrics.js';
import type { RateBucket } from '../rate-limit/rate-limiter.js';

export interface RouteDeps {
  store: Store;
  config: Config;
  metrics: Metrics;
  clock: () => number;
  ingest: IngestGate;
  guard: (bucket: RateBucket) => onRequestAsyncHookHandler;
}
