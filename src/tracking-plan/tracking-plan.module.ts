/**
 * Tracking plans put together: the store's TrackingPlanStore, this process's compiled copies
 * (the ingest hot path's PlanChecks), the service its routes, the dashboard and the CLI share.
 */
import type { FastifyInstance } from 'fastify';
import type { Guard } from '../http/route-deps.js';
import { TrackingPlanCache } from './tracking-plan-cache.js';
import { trackingPlanRoutes } from './tracking-plan.routes.js';
import { TrackingPlanService } from './tracking-plan.service.js';
import type { TrackingPlanStore } from './tracking-plan-store.port.js';

export class TrackingPlanModule {
  /** Give to IngestService: the check every event passes through. */
  readonly checks: TrackingPlanCache;
  readonly service: TrackingPlanService;

  constructor(deps: { plans: TrackingPlanStore }) {
    this.checks = new TrackingPlanCache(deps.plans);
    this.service = new TrackingPlanService({ plans: deps.plans, cache: this.checks });
  }

  mount(app: FastifyInstance, ctx: { guard: Guard; clock: () => number }) {
    return app.register(trackingPlanRoutes, { service: this.service, guard: ctx.guard, clock: ctx.clock });
  }
}
