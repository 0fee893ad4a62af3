/**
 * Settings → webhook signing secret (SPEC.md, "Webhook step"): read it, rotate it. Rotation
 * keeps the previous secret in the signatures for 24 h, so receivers can switch over.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteContract } from '../http/route-contract.js';
import type { Guard } from '../http/route-deps.js';
import type { WorkspaceSecretStore } from './workspace-secrets.port.js';

export interface WorkspaceSecretsRoutesOptions {
  secrets: WorkspaceSecretStore;
  guard: Guard;
  clock: () => number;
}

const SECRET = { type: 'string', pattern: '^whsec_', description: 'Standard Webhooks signing secret: whsec_ + base64 of the key' };

const GET_SECRET: RouteContract = {
  summary: 'The workspace\'s webhook signing secret',
  description: 'Workflow webhooks are signed with it (Standard Webhooks, `webhook-signature: v1,…`). Made on first use; the same until rotated.',
  tags: ['Settings'],
  responses: { 200: { description: 'The current secret', schema: { type: 'object', properties: { secret: SECRET } } } },
};

const ROTATE_SECRET: RouteContract = {
  summary: 'Rotate the webhook signing secret',
  description:
    'Makes a new secret. For 24 hours webhooks carry two signatures, the new secret\'s first, then the old one\'s; a second rotation within that time drops the oldest at once.',
  tags: ['Settings'],
  responses: {
    200: {
      description: 'The new secret, and until when the previous one is still sent',
      schema: { type: 'object', properties: { secret: SECRET, previousValidUntil: { type: 'string', format: 'date-time' } } },
    },
  },
};

/** GET /v1/settings/webhook-secret's answer (also the dashboard's). */
export async function webhookSecretView(secrets: WorkspaceSecretStore, workspaceId: string, now: number) {
  return { secret: await secrets.webhookSecret(workspaceId, now) };
}

/** POST /v1/settings/webhook-secret/rotate's answer (also the dashboard's Rotate). */
export async function rotateWebhookSecret(secrets: WorkspaceSecretStore, workspaceId: string, now: number) {
  const r = await secrets.rotateWebhookSecret(workspaceId, now);
  return { secret: r.secret, previousValidUntil: new Date(r.previousValidUntil).toISOString() };
}

export const workspaceSecretsRoutes: FastifyPluginAsync<WorkspaceSecretsRoutesOptions> = async (app, { secrets, guard, clock }) => {
  app.get('/v1/settings/webhook-secret', { onRequest: guard('api'), config: { contract: GET_SECRET } }, async (req) => webhookSecretView(secrets, req.workspaceId, clock()));

  // No body needed; a JSON one is read and ignored (a client sending `{}` is not refused).
  app.post('/v1/settings/webhook-secret/rotate', { onRequest: guard('api'), bodyLimit: 1024, config: { contract: ROTATE_SECRET } }, async (req) => rotateWebhookSecret(secrets, req.workspaceId, clock()));
};
