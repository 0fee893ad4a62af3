/**
 * The Failed page's Retry of an event whose processing failed for good: queued again, due
 * now (QueueStore.retryFailed); the worker takes it as any queued event.
 */
import type { EventReader } from '../events-read/event-reader.port.js';
import { presentEvent } from '../events-read/present-event.js';
import { ApiError, Errors } from '../http/errors.js';
import type { QueueStore } from './event-queue.port.js';

export async function retryFailedEvent(
  deps: { queue: Pick<QueueStore, 'retryFailed'>; events: Pick<EventReader, 'get'> },
  workspaceId: string,
  messageId: string,
  now: number,
) {
  const e = await deps.events.get(workspaceId, messageId);
  if (!e) throw Errors.eventNotFound();
  if (!(await deps.queue.retryFailed({ workspaceId, messageId, now }))) throw new ApiError(409, 'CONFLICT', `Event is ${e.status}: only a failed event can be retried`);
  return { event: presentEvent((await deps.events.get(workspaceId, messageId)) ?? e) };
}
