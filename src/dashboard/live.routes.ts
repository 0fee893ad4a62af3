/**
 * GET /dashboard/api/live: Server-Sent Events of every accepted, duplicate and rejected event
 * of the session's workspace, from now on. The source is the store, polled every POLL_MS by
 * position (the events table by acceptance order, the activity log by id; live-feed.ts), so
 * events taken by any API process on one PostgreSQL appear, not only this process's.
 * PostgreSQL ids commit out of order under concurrency: an event whose id was taken before
 * a later one that committed first lands in a gap the feed re-reads (live-feed.ts, GAP_MS).
 * The activity log's batches commit in id order (activity-store.postgres.ts, ACTIVITY_LOG_LOCK).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { ActivityStore } from '../activity/activity.port.js';
import { LiveFeed } from './live-feed.js';

export const POLL_MS = 300;

export const liveRoutes = (activity: ActivityStore): FastifyPluginAsync => async (app) => {
  const open = new Set<ServerResponse>();
  // Streams never end by themselves: end them before the server waits for its connections.
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  app.get('/dashboard/api/live', { config: { internal: 'dashboard' } }, async (req: FastifyRequest, reply) => {
    const start = await activity.positions();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': req.id,
    });
    res.write(': live\n\n');
    open.add(res);
    const feed = new LiveFeed(activity, req.workspaceId, res, start);
    const timer = setInterval(() => {
      feed.tick().catch((err: unknown) => req.log.warn({ err }, 'live view poll failed; retrying'));
    }, POLL_MS);
    res.on('close', () => {
      clearInterval(timer);
      open.delete(res);
    });
  });
};
