/** GET /v1/stats/events: events per minute, hour or day, from the per-minute counters (never a scan of events). */
import type { FastifyPluginAsync } from 'fastify';
import { queryTime } from '../events-read/events-read.routes.js';
import { Errors } from '../http/errors.js';
import { iso, singleQuery } from '../http/paging.js';
import type { RouteContract } from '../http/route-contract.js';
import type { Guard } from '../http/route-deps.js';
import type { ActivityStore } from './activity.port.js';

const BUCKET_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
/** Longest series one call returns (a day of minutes). */
export const MAX_BUCKETS = 1440;
const DEFAULT_BUCKETS = 60;

export const EVENT_STATS: RouteContract = {
  summary: 'Events per interval: accepted, duplicate, rejected',
  description:
    'Counted by receipt time, in UTC buckets, from counters kept at ingest. Every bucket from `since` (rounded down) to `until` appears, zeros included; at most 1,440 buckets. Defaults: the last 60 intervals.',
  tags: ['Events'],
  query: {
    event: { description: 'Only this event name (rejected events without a valid name count under "")' },
    interval: { description: 'Bucket size (default minute)', schema: { enum: ['minute', 'hour', 'day'] } },
    since: { description: 'Inclusive start: ISO 8601 or Unix seconds/ms' },
    until: { description: 'Exclusive end: ISO 8601 or Unix seconds/ms (default now)' },
  },
  responses: {
    200: {
      description: 'The series, oldest bucket first',
      schema: {
        type: 'object',
        properties: {
          series: {
            type: 'array',
            items: {
              type: 'object',
              properties: { t: { type: 'string', format: 'date-time' }, accepted: { type: 'integer' }, duplicate: { type: 'integer' }, rejected: { type: 'integer' } },
            },
          },
        },
      },
    },
  },
};

/** The series of one workspace (also the dashboard's /dashboard/api/stats). */
export async function eventStats(activity: ActivityStore, workspaceId: string, rawQuery: unknown, now: number) {
  const q = singleQuery(rawQuery);
  const interval = q.interval ?? 'minute';
  if (!(interval in BUCKET_MS)) throw Errors.invalidQuery('"interval" must be minute, hour or day');
  const bucket = BUCKET_MS[interval as keyof typeof BUCKET_MS];
  const until = q.until !== undefined ? queryTime('until', q.until, now) : now + 1;
  // Default: the last 60 buckets, the one holding `until` included.
  const since = q.since !== undefined ? queryTime('since', q.since, now) : (Math.floor((until - 1) / bucket) - (DEFAULT_BUCKETS - 1)) * bucket;
  const start = Math.floor(since / bucket) * bucket;
  if (until <= since) throw Errors.invalidQuery('"until" must be after "since"');
  if ((until - start) / bucket > MAX_BUCKETS) throw Errors.invalidQuery(`at most ${MAX_BUCKETS} ${interval} buckets per call: narrow "since"–"until" or use a longer interval`);
  const points = await activity.stats({ workspaceId, since: start, until, bucketMs: bucket, ...(q.event !== undefined ? { event: q.event } : {}) });
  const byT = new Map(points.map((p) => [p.t, p]));
  const series = [];
  for (let t = start; t < until; t += bucket) {
    const p = byT.get(t);
    series.push({ t: iso(t), accepted: p?.accepted ?? 0, duplicate: p?.duplicate ?? 0, rejected: p?.rejected ?? 0 });
  }
  return { series };
}

export const statsRoutes: FastifyPluginAsync<{ activity: ActivityStore; guard: Guard; clock: () => number }> = async (app, { activity, guard, clock }) => {
  app.get('/v1/stats/events', { onRequest: guard('api'), config: { contract: EVENT_STATS } }, async (req) => eventStats(activity, req.workspaceId, req.query, clock()));
};
