/** PUT/GET/DELETE /v1/tracking-plan and GET /v1/tracking-plan/violations: wire ↔ TrackingPlanService. */
import type { FastifyPluginAsync } from 'fastify';
import { Errors } from '../http/errors.js';
import type { Guard } from '../http/route-deps.js';
import { DELETE_PLAN, GET_PLAN, PLAN_VIOLATIONS, PUT_PLAN } from './tracking-plan.docs.js';
import type { TrackingPlanService } from './tracking-plan.service.js';
import { InvalidPlanError, PLAN_LIMITS } from './tracking-plan.js';

export const trackingPlanRoutes: FastifyPluginAsync<{ service: TrackingPlanService; guard: Guard; clock: () => number }> = async (app, { service, guard, clock }) => {
  app.put('/v1/tracking-plan', { onRequest: guard('api'), bodyLimit: PLAN_LIMITS.maxBodyBytes, config: { contract: PUT_PLAN } }, async (req) => {
    try {
      return { trackingPlan: await service.put(req.workspaceId, req.body, clock()) };
    } catch (err) {
      if (err instanceof InvalidPlanError) throw Errors.invalidTrackingPlan(err.message);
      throw err;
    }
  });

  app.get('/v1/tracking-plan', { onRequest: guard('api'), config: { contract: GET_PLAN } }, async (req) => {
    const plan = await service.get(req.workspaceId);
    if (!plan) throw Errors.trackingPlanNotFound();
    return { trackingPlan: plan };
  });

  app.delete('/v1/tracking-plan', { onRequest: guard('api'), config: { contract: DELETE_PLAN } }, async (req) => {
    const plan = await service.delete(req.workspaceId, clock());
    if (!plan) throw Errors.trackingPlanNotFound();
    return { isDeleted: true, trackingPlan: plan };
  });

  app.get('/v1/tracking-plan/violations', { onRequest: guard('api'), config: { contract: PLAN_VIOLATIONS } }, async (req) => ({ violations: await service.violations(req.workspaceId) }));
};
