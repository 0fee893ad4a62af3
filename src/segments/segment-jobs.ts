/**
 * The segments module's background work: the membership stage after the contact merge, the
 * recheck timers, re-evaluation after an API write, transition delivery to listeners, and
 * the backfill of a new or edited rule over existing contacts in bounded batches.
 */
import type { ContactStore } from '../contacts/contact-store.port.js';
import type { EventStage } from '../processing/stages.js';
import type { JobInput } from '../processing/job-queue.port.js';
import { PermanentJobError, type JobKind } from '../processing/job-kind.js';
import { MembershipService, SEGMENT_RECHECK_KIND, SEGMENT_TRANSITIONS_KIND } from './membership.service.js';
import type { SegmentTransition, SegmentTransitionListener } from './segment-links.js';
import type { SegmentStore } from './segment-store.port.js';

export const SEGMENT_BACKFILL_KIND = 'segments.backfill';
export const SEGMENT_CONTACT_WRITTEN_KIND = 'segments.contact_written';
export const SEGMENT_JOB_KINDS = [SEGMENT_BACKFILL_KIND, SEGMENT_CONTACT_WRITTEN_KIND, SEGMENT_RECHECK_KIND, SEGMENT_TRANSITIONS_KIND];
/** Contacts per backfill job: one job is a few hundred small transactions, never one over all contacts. */
export const BACKFILL_BATCH = 200;

export interface SegmentJobDeps {
  service: MembershipService;
  segments: SegmentStore;
  contacts: Pick<ContactStore, 'list' | 'get'>;
  listeners: SegmentTransitionListener[];
}

export function membershipStage(d: SegmentJobDeps): EventStage {
  return {
    name: 'segments.membership',
    async handle(events, ctx) {
      const byWs = new Map<string, Map<string, typeof events>>();
      for (const e of events) {
        if (!e.contactId) continue;
        let m = byWs.get(e.workspaceId);
        if (!m) byWs.set(e.workspaceId, (m = new Map()));
        const l = m.get(e.contactId);
        if (l) l.push(e);
        else m.set(e.contactId, [e]);
      }
      // One write of every hit and one enqueue of every recheck timer per job (each is a
      // commit on the SQLite writer thread that ingest shares), not one per event.
      const timers: JobInput[] = [];
      const collect = async (jobs: JobInput[]): Promise<void> => void timers.push(...jobs);
      for (const [ws, contacts] of byWs) {
        const defs = await d.service.definitions(ws);
        if (defs.length === 0) continue;
        const hits = [...contacts].flatMap(([contactId, evs]) =>
          evs.flatMap((e) => d.service.hitsOf(defs, contactId, { seq: e.seq, event: e.event, properties: e.properties, timestamp: e.timestamp })),
        );
        await d.segments.recordHits(hits);
        for (const [contactId, evs] of contacts) {
          // Only segments whose rule names the event or one of the traits it set can change.
          const candidates = d.service.candidatesFor(defs, evs);
          await d.service.evaluateContact({ workspaceId: ws, contactId, defs, candidates, now: ctx.now, enqueue: collect });
        }
      }
      await d.segments.scheduleTimers(timers, ctx.now);
    },
  };
}

interface ContactPayload {
  workspaceId: string;
  contactId: string;
  properties?: string[] | null;
}

function contactPayload(p: unknown, jobId: number): ContactPayload {
  const o = p as Partial<ContactPayload> | null;
  if (!o || typeof o.workspaceId !== 'string' || typeof o.contactId !== 'string') throw new PermanentJobError(`job ${jobId}: bad payload`);
  return o as ContactPayload;
}

export function segmentJobKinds(d: SegmentJobDeps): JobKind[] {
  const recheck: JobKind = {
    kind: SEGMENT_RECHECK_KIND,
    async run(job, ctx) {
      const p = contactPayload(job.payload, job.id);
      const defs = await d.service.definitions(p.workspaceId);
      const candidates = new Set(defs.filter((s) => s.refs.timeDependent).map((s) => s.record.id));
      await d.service.evaluateContact({ ...p, defs, candidates, now: ctx.now });
    },
  };
  const written: JobKind = {
    kind: SEGMENT_CONTACT_WRITTEN_KIND,
    async run(job, ctx) {
      const p = contactPayload(job.payload, job.id);
      const defs = await d.service.definitions(p.workspaceId);
      const names = p.properties;
      const candidates = names ? new Set(defs.filter((s) => names.some((n) => s.refs.properties.has(n))).map((s) => s.record.id)) : ('all' as const);
      await d.service.evaluateContact({ workspaceId: p.workspaceId, contactId: p.contactId, defs, candidates, now: ctx.now });
    },
  };
  const transitions: JobKind = {
    kind: SEGMENT_TRANSITIONS_KIND,
    async run(job, ctx) {
      const list = (job.payload as { transitions?: SegmentTransition[] } | null)?.transitions;
      if (!Array.isArray(list)) throw new PermanentJobError(`job ${job.id}: payload has no transitions`);
      for (const l of d.listeners) await l.onTransitions(list, ctx);
    },
  };
  const backfill: JobKind = {
    kind: SEGMENT_BACKFILL_KIND,
    async run(job, ctx) {
      const p = job.payload as { workspaceId: string; segmentId: string; version: number; done?: number; after: { createdAt: number; id: string } | null; run?: string };
      const seg = await d.segments.getSegment(p.workspaceId, p.segmentId);
      if (!seg || seg.version !== p.version) return; // deleted, or edited since: that edit's backfill runs
      const defs = await d.service.definitions(p.workspaceId);
      const def = defs.find((s) => s.record.id === p.segmentId);
      if (!def) throw new PermanentJobError(`segment ${p.segmentId}: rule cannot be parsed`);
      const page = await d.contacts.list({ workspaceId: p.workspaceId, limit: BACKFILL_BATCH, sort: 'createdAt.asc', ...(p.after ? { after: p.after } : {}) });
      const names = [...def.refs.events];
      for (const c of page.items) {
        // The contact's history for this rule's `performed` nodes, with each event's own time.
        const history = await d.segments.contactEvents(p.workspaceId, c.id, names);
        const hits = history.flatMap((e) => d.service.hitsOf([def], c.id, e));
        await d.segments.recordHits(hits);
        await d.service.evaluateContact({ workspaceId: p.workspaceId, contactId: c.id, defs, candidates: new Set([p.segmentId]), now: ctx.now });
      }
      // Unfiltered, createdAt order: one index range, so `next` is set exactly when more remain.
      const last = page.next;
      const more = last !== null;
      const done = (p.done ?? 0) + page.items.length;
      // The next batch, then progress (absolute, so a repeated job never counts twice).
      if (more) await ctx.enqueue([backfillJob(p.workspaceId, p.segmentId, p.version, { createdAt: last.createdAt, id: last.id }, ctx.now, done, p.run)]);
      await d.segments.recordProgress(p.segmentId, p.version, { done, status: more ? 'building' : 'ready', now: ctx.now });
    },
  };
  return [recheck, written, transitions, backfill];
}

/**
 * One batch of a backfill. Keys are `<segment>:<version>:[<run>:]<after>`: a chain's batches
 * are enqueued once each, and a `run` (the repair, segment-upkeep.ts) is a second chain over
 * the same version whose keys do not meet the first one's.
 */
export function backfillJob(workspaceId: string, segmentId: string, version: number, after: { createdAt: number; id: string } | null, now: number, done = 0, run?: string) {
  return {
    kind: SEGMENT_BACKFILL_KIND,
    key: `${segmentId}:${version}:${run ? `${run}:` : ''}${after ? after.id : 'start'}`,
    payload: { workspaceId, segmentId, version, after, done, ...(run ? { run } : {}) },
    runAt: now,
    maxAttempts: 10,
  };
}
