/**
 * The job that attaches held (unidentified) events once their id resolves to an email: it
 * appends them to the event log, oldest event time first, and then releases them. Enqueued by
 * IdentityStore.record in the transaction that made the link (or held the event), so a link
 * never misses its events; a worker killed between the append and the release runs the job
 * again, and the append's messageId dedup makes that second append a no-op: each held event
 * reaches the event log exactly once. Attached events are then processed like any other, and
 * their traits merge by event time, so late attachment changes nothing else (SPEC.md).
 */
import { PermanentJobError, type JobKind } from './job-kind.js';
import type { EventLog, AppendItem } from '../ingest/event-log.port.js';
import { ATTACH_HELD_KIND, type IdentityStore } from '../ingest/segment/identity-store.port.js';

/** Held events appended per round (one append, one release). */
const ROUND = 500;

export interface AttachHeldOptions {
  identity: Pick<IdentityStore, 'resolve' | 'heldFor' | 'aliasesOf' | 'release'>;
  events: Pick<EventLog, 'append'>;
  dedupWindowMs: number;
  /** Events attached (for metrics). */
  attached?: (n: number) => void;
}

export function attachHeldKind(o: AttachHeldOptions): JobKind {
  return {
    kind: ATTACH_HELD_KIND,
    async run(job, ctx) {
      const p = job.payload as { workspaceId?: unknown; id?: unknown } | null;
      if (typeof p?.workspaceId !== 'string' || typeof p.id !== 'string') throw new PermanentJobError('attach job without workspaceId and id');
      const { workspaceId, id } = p;
      const ids = [id, ...(await o.identity.aliasesOf(workspaceId, id))];
      for (let round = 0; round < 10_000; round++) {
        const held = await o.identity.heldFor(workspaceId, ids, ROUND);
        if (held.length === 0) return;
        // Each event by its own ids (userId first): the id that triggered the job is one of them.
        const emails = await o.identity.resolve(workspaceId, [...new Set(held.flatMap((h) => [h.userId, h.anonymousId].filter((x): x is string => x !== null)))]);
        const items: AppendItem[] = [];
        for (const h of held) {
          const email = (h.userId !== null ? emails.get(h.userId) : undefined) ?? (h.anonymousId !== null ? emails.get(h.anonymousId) : undefined);
          if (email === undefined) continue;
          items.push({ workspaceId, messageId: h.messageId, event: h.event, email, properties: h.properties, traits: h.traits, timestamp: h.timestamp, source: 'segment', ...(h.violations ? { violations: h.violations } : {}) });
        }
        if (items.length === 0) return;
        await o.events.append(items, ctx.now, o.dedupWindowMs);
        const attached = new Set(items.map((i) => i.messageId));
        const released = held.filter((h) => attached.has(h.messageId)).map((h) => h.seq);
        await o.identity.release(released);
        o.attached?.(items.length);
        if (held.length < ROUND) return;
      }
    },
  };
}
