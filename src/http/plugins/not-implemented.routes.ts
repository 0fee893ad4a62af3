/**
 * Calls of the official `@smashsend/node` SDK that this server does not implement (email
 * sending, webhooks, groups, broadcasts, forms, key management over HTTP, …). Each answers a
 * 404 NOT_IMPLEMENTED naming the call, with or without a key, rather than a generic 404, or a
 * 405 that would suggest the path exists (POST /v1/contacts/batch would otherwise meet the
 * 405 derived from /v1/contacts/:id). They are `internal` routes: no 405s of their own (other
 * methods stay ordinary 404s), no query check, not in /openapi.json. Paths from the SDK's
 * sources (src/api/*.ts), all under /v1. Implementing one means removing it here: Fastify
 * refuses to start with a route registered twice.
 */
import type { FastifyPluginAsync, HTTPMethods } from 'fastify';
import { Errors } from '../errors.js';

export const NOT_IMPLEMENTED_CALLS: readonly [call: string, method: HTTPMethods, path: string][] = [
  ['contacts.createBatch', 'POST', '/v1/contacts/batch'],
  ['contacts.createProperty', 'POST', '/v1/contact-properties'],
  ['contacts.updateProperty', 'PUT', '/v1/contact-properties/:id'],
  ['apiKeys.getCurrent', 'GET', '/v1/api-keys/current'],
  ['apiKeys.list', 'GET', '/v1/workspaces/:workspaceId/api-keys'],
  ['apiKeys.create', 'POST', '/v1/workspaces/:workspaceId/api-keys'],
  ['apiKeys.update', 'POST', '/v1/workspaces/:workspaceId/api-keys/:id'],
  ['apiKeys.delete', 'DELETE', '/v1/workspaces/:workspaceId/api-keys/:id'],
  ['webhooks.create', 'POST', '/v1/webhooks'],
  ['webhooks.list', 'GET', '/v1/webhooks'],
  ['webhooks.get', 'GET', '/v1/webhooks/:id'],
  ['webhooks.update', 'POST', '/v1/webhooks/:id'],
  ['webhooks.delete', 'DELETE', '/v1/webhooks/:id'],
  ['emails.send / emails.sendWithTemplate', 'POST', '/v1/emails'],
  ['emails.list', 'GET', '/v1/emails'],
  ['emails.get', 'GET', '/v1/emails/:id'],
  ['transactional.list', 'GET', '/v1/transactional'],
  ['transactional.get', 'GET', '/v1/transactional/:id'],
  ['groups.create', 'POST', '/v1/groups'],
  ['groups.list', 'GET', '/v1/groups'],
  ['groups.get', 'GET', '/v1/groups/:id'],
  ['groups.update', 'PATCH', '/v1/groups/:id'],
  ['groups.delete', 'DELETE', '/v1/groups/:id'],
  ['groups.addContact', 'POST', '/v1/groups/:id/contacts'],
  ['groups.listContacts', 'GET', '/v1/groups/:id/contacts'],
  ['groups.removeContact', 'DELETE', '/v1/groups/:id/contacts/:contactId'],
  ['broadcasts.create', 'POST', '/v1/broadcasts'],
  ['broadcasts.list', 'GET', '/v1/broadcasts'],
  ['broadcasts.get', 'GET', '/v1/broadcasts/:id'],
  ['broadcasts.schedule', 'POST', '/v1/broadcasts/:id/schedule'],
  ['broadcasts.cancel', 'POST', '/v1/broadcasts/:id/cancel'],
  ['broadcasts.sendTest', 'POST', '/v1/broadcasts/:id/test'],
  ['forms.get', 'GET', '/v1/forms/:id'],
  ['forms.submit', 'POST', '/v1/forms/:id/submit'],
  ['forms.sendStatusLink', 'POST', '/v1/forms/:id/status-link'],
  ['forms.getLeaderboard', 'GET', '/v1/forms/:id/leaderboard'],
  ['forms.getReferralStatus', 'GET', '/v1/forms/:id/entries/:entryId/referral-status'],
  ['forms.getEntryPosition', 'GET', '/v1/forms/:id/entries/:entryId/position'],
  ['forms.listEntryRewards', 'GET', '/v1/forms/:id/entries/:entryId/rewards'],
  ['forms.completeTask', 'POST', '/v1/forms/:id/entries/:entryId/tasks/:taskId/complete'],
  ['domains.getVerifiedIdentities', 'GET', '/v1/identities'],
];

export const notImplementedRoutes: FastifyPluginAsync = async (app) => {
  for (const [call, method, path] of NOT_IMPLEMENTED_CALLS) {
    const err = () => Errors.notImplemented(call, method, path);
    app.route({
      method,
      url: path,
      exposeHeadRoute: false,
      config: { internal: 'not_implemented' },
      // Answered before the body is read: whatever it holds (or its content type), the answer is the same.
      onRequest: async () => {
        throw err();
      },
      handler: async () => {
        throw err();
      },
    });
  }
};
