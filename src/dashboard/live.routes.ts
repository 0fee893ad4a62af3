/**
 * GET /dashboard/api/live: Server-Sent Events of every accepted, duplicate and rejected event
 * of the session's workspace, from now on. The source is the store, polled every POLL_MS by
 * position (the events table by acceptance order, the activity log by id), so events taken by
 * any API process on one PostgreSQL appear, not only this process's.
 *
 * Bounded: each poll reads at most PAGE of each; a client that does not keep up (more than
 * MAX_BUFFERED bytes unsent) gets no more items until it drains, then one `dropped` event
 * with how many it missed. A backlog beyond a page per poll is skipped the same way.
 * PostgreSQL ids commit out of order under concurrency: an event whose id was taken before
 * a later one that committed first can be missed by the poller (rare; the event list shows it).
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { ActivityStore } from '../activity/activity.port.js';
import { iso } from '../http/paging.js';

export const POLL_MS = 300;
const PAGE = 500;
const MAX_BUFFERED = 256 * 1024;
const HEARTBEAT_MS = 15_000;

export const liveRoutes = (activity: ActivityStore): FastifyPluginAsync => async (app) => {
  const open = new Set<ServerResponse>();
  // Streams never end by themselves: end them before the server waits for its connections.
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  app.get('/dashboard/api/live', { config: { internal: 'dashboard' } }, async (req: FastifyRequest, reply) => {
    const ws = req.workspaceId;
    let { eventSeq, activityId } = await activity.positions();
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
    let dropped = 0;
    let busy = false;
    let lastWrite = Date.now();
    const send = (event: string, data: unknown) => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      lastWrite = Date.now();
    };
    const tick = async () => {
      if (busy || res.writableEnded) return;
      busy = true;
      try {
        const [accepted, other] = await Promise.all([activity.acceptedAfter(ws, eventSeq, PAGE), activity.activityAfter(ws, activityId, PAGE)]);
        if (accepted.length) eventSeq = accepted[accepted.length - 1]!.seq;
        if (other.length) activityId = other[other.length - 1]!.id;
        const items = [
          ...accepted.map((e) => ({ kind: 'accepted', at: e.receivedAt, messageId: e.messageId, event: e.event, email: e.email, source: 'api' })),
          ...other.map((a) => ({ kind: a.kind, at: a.at, messageId: a.messageId, event: a.event, email: a.email, source: a.source, ...(a.errors ? { errors: a.errors } : {}) })),
        ].sort((a, b) => a.at - b.at);
        if (res.writableLength > MAX_BUFFERED) {
          dropped += items.length;
        } else {
          if (dropped > 0) send('dropped', { count: dropped });
          dropped = 0;
          for (const i of items) send('item', { ...i, at: iso(i.at) });
        }
        // More than a page waiting: jump to now, and say how much was skipped.
        if (accepted.length === PAGE || other.length === PAGE) {
          const now = await activity.positions();
          dropped += Math.max(0, now.eventSeq - eventSeq) + Math.max(0, now.activityId - activityId);
          ({ eventSeq, activityId } = now);
        }
        if (Date.now() - lastWrite > HEARTBEAT_MS) res.write(': keep-alive\n\n');
      } catch (err) {
        req.log.warn({ err }, 'live view poll failed; retrying');
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), POLL_MS);
    res.on('close', () => {
      clearInterval(timer);
      open.delete(res);
    });
  });
};
