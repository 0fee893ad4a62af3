/**
 * The segments module put together: its service, stage, job kinds, routes and what it offers
 * other modules (SegmentMembership) — built from the store and the optional links to the
 * workflows module (listeners of transitions, referrers asked before a delete).
 */
import type { FastifyInstance } from 'fastify';
import type { ContactStore } from '../contacts/contact-store.port.js';
import type { JobKind } from '../processing/job-kind.js';
import type { JobQueue } from '../processing/job-queue.port.js';
import type { EventStage } from '../processing/stages.js';
import type { Guard } from '../http/route-deps.js';
import { MembershipService } from './membership.service.js';
import { SEGMENT_CONTACT_WRITTEN_KIND, membershipStage, segmentJobKinds } from './segment-jobs.js';
import type { SegmentMembership, SegmentReferrer, SegmentTransitionListener } from './segment-links.js';
import type { SegmentStore } from './segment-store.port.js';
import { segmentsRoutes } from './segments.routes.js';
import { segmentUpkeep } from './segment-upkeep.js';

export interface SegmentsModuleDeps {
  store: { segments: SegmentStore; contacts: ContactStore; jobs: JobQueue };
  listeners?: SegmentTransitionListener[];
  referrers?: SegmentReferrer[];
}

export class SegmentsModule {
  readonly service: MembershipService;
  readonly membership: SegmentMembership;

  constructor(private readonly deps: SegmentsModuleDeps) {
    const { segments, contacts } = deps.store;
    this.service = new MembershipService({ segments, contacts });
    this.membership = {
      exists: async (ws, id) => (await segments.getSegment(ws, id)) !== null,
      isMember: async (ws, id, contactId) =>
        (await segments.getSegment(ws, id)) !== null && (await segments.contactMembership(contactId)).members.some((m) => m.segmentId === id),
    };
  }

  private get jobDeps() {
    return { service: this.service, segments: this.deps.store.segments, contacts: this.deps.store.contacts, listeners: this.deps.listeners ?? [] };
  }

  stage(): EventStage {
    return membershipStage(this.jobDeps);
  }

  kinds(): JobKind[] {
    return segmentJobKinds(this.jobDeps);
  }

  /** The module's housekeeping task: stalled builds repaired, hits past their window pruned (segment-upkeep.ts). */
  upkeep(): (now: number) => Promise<void> {
    return segmentUpkeep({ segments: this.deps.store.segments, jobs: this.deps.store.jobs });
  }

  /** For contactsRoutes' `onContactWritten`: a durable job re-evaluates the contact (null names: every segment). */
  onContactWritten = async (workspaceId: string, contactId: string, propertyNames: string[] | null, now: number): Promise<void> => {
    await this.deps.store.jobs.enqueue([{ kind: SEGMENT_CONTACT_WRITTEN_KIND, payload: { workspaceId, contactId, properties: propertyNames }, runAt: now, maxAttempts: 10 }], now);
  };

  mount(app: FastifyInstance, ctx: { guard: Guard; clock: () => number }) {
    const { segments, contacts, jobs } = this.deps.store;
    return app.register(segmentsRoutes, { segments, contacts, jobs, guard: ctx.guard, clock: ctx.clock, ...(this.deps.referrers ? { referrers: this.deps.referrers } : {}) });
  }
}
