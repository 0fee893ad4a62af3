/** GET /v1/api-keys/check: the official SDK's apiKeys.validate(). */
import type { FastifyPluginAsync } from 'fastify';
import { Errors } from '../http/errors.js';
import type { RouteContract } from '../http/route-contract.js';
import type { Guard } from '../http/route-deps.js';

export interface ApiKeysRoutesOptions {
  guard: Guard;
}

const CHECK_KEY: RouteContract = {
  summary: 'Check the API key (the official SDK\'s apiKeys.validate())',
  description: 'A valid key answers its id, name and prefix and its workspace; any other key is a 401.',
  tags: ['Keys'],
  responses: {
    200: {
      description: 'The key is valid',
      schema: {
        type: 'object',
        properties: {
          status: { type: 'string', const: 'SUCCEED' },
          displayName: { type: 'string', description: 'The key\'s name' },
          role: { type: 'string', const: 'secret' },
          apiKey: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, prefix: { type: 'string' } } },
          workspace: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
          mode: { type: 'string', const: 'test', description: 'Present for a test key (sk_test_…): its workspace id is the test mode\'s' },
        },
      },
    },
  },
};

export const apiKeysRoutes: FastifyPluginAsync<ApiKeysRoutesOptions> = async (app, { guard }) => {
  // A valid key answers 200: the official SDK's fields (`status: "SUCCEED"` is what makes its
  // validate() say `valid: true`; `displayName` is the key's name; `role` the kind of key),
  // then ours. Any other key is the guard's 401 `Invalid API key`. It counts in the `api` bucket.
  app.get('/v1/api-keys/check', { onRequest: guard('api'), config: { contract: CHECK_KEY } }, async (req) => {
    const k = req.apiKey;
    if (!k) throw Errors.invalidApiKey();
    return {
      status: 'SUCCEED',
      displayName: k.keyName,
      role: 'secret',
      apiKey: { id: k.keyId, name: k.keyName, prefix: k.keyPrefix },
      workspace: { id: k.workspaceId, name: k.workspaceName },
      // A test key says so (its workspace id is test mode's); a live key's answer is as it was.
      ...(k.test ? { mode: 'test' } : {}),
    };
  });
};
