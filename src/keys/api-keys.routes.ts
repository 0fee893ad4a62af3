/** GET /v1/api-keys/check: the official SDK's apiKeys.validate(). */
import type { FastifyPluginAsync } from 'fastify';
import { Errors } from '../http/errors.js';
import type { Guard } from '../http/route-deps.js';

export interface ApiKeysRoutesOptions {
  guard: Guard;
}

export const apiKeysRoutes: FastifyPluginAsync<ApiKeysRoutesOptions> = async (app, { guard }) => {
  // A valid key answers 200: the official SDK's fields (`status: "SUCCEED"` is what makes its
  // validate() say `valid: true`; `displayName` is the key's name; `role` the kind of key),
  // then ours. Any other key is the guard's 401 `Invalid API key`. It counts in the `api` bucket.
  app.get('/v1/api-keys/check', { onRequest: guard('api'), config: { contract: {} } }, async (req) => {
    const k = req.apiKey;
    if (!k) throw Errors.invalidApiKey();
    return {
      status: 'SUCCEED',
      displayName: k.keyName,
      role: 'secret',
      apiKey: { id: k.keyId, name: k.keyName, prefix: k.keyPrefix },
      workspace: { id: k.workspaceId, name: k.workspaceName },
    };
  });
};
