/**
 * The official @smashsend/node SDK's surface: apiKeys.validate() works (GET /v1/api-keys/check);
 * every call this server does not implement is a 404 NOT_IMPLEMENTED naming it, never a 405
 * that would suggest the path exists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_IMPLEMENTED_CALLS } from '../src/http/plugins/not-implemented.routes.js';
import { call } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  await s.close();
});

describe('official SDK calls', () => {
  it('apiKeys.validate(): GET /v1/api-keys/check answers the key and its workspace', async () => {
    const key = await s.createKey('check-ws');
    const record = (await s.store.keys.listKeys()).find((k) => k.workspaceName === 'check-ws')!;
    const r = await call(`${s.url}/v1/api-keys/check`, { key });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      status: 'SUCCEED',
      displayName: 'test',
      role: 'secret',
      apiKey: { id: record.id, name: 'test', prefix: key.slice(0, 12) },
      workspace: { id: record.workspaceId, name: 'check-ws' },
    });
    expect(r.headers.get('x-ratelimit-limit')).toBe('6000');
    for (const bad of [null, 'sk_live_nope']) {
      const denied = await call(`${s.url}/v1/api-keys/check`, { key: bad });
      expect(denied.status).toBe(401);
      expect(denied.body).toMatchObject({ code: 'INVALID_API_KEY', message: 'Invalid API key' });
    }
  });

  it('calls we do not implement are a 404 NOT_IMPLEMENTED naming the call, with or without a key', async () => {
    expect(NOT_IMPLEMENTED_CALLS.length).toBeGreaterThan(30);
    for (const [name, method, path] of NOT_IMPLEMENTED_CALLS) {
      const url = path.replace(/:[A-Za-z]+/g, 'x1');
      for (const key of [s.key, null]) {
        const r = await call(`${s.url}${url}`, { method, key, body: method === 'GET' || method === 'DELETE' ? undefined : { any: 'thing' } });
        expect(r.status, `${name} ${method} ${url}`).toBe(404);
        expect(r.body, `${name}`).toEqual({
          statusCode: 404,
          error: 'Not Found',
          code: 'NOT_IMPLEMENTED',
          message: `The official SDK's ${name} (${method} ${path}) is not implemented by this server`,
        });
      }
    }
  });

  it('POST /v1/contacts/batch is not a 405 borrowed from /v1/contacts/:id, whatever the body', async () => {
    const r = await call(`${s.url}/v1/contacts/batch`, { key: s.key, raw: 'not json', headers: { 'content-type': 'text/plain' }, method: 'POST' });
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('NOT_IMPLEMENTED');
    // The paths we do serve keep their 405s and their own 404s.
    expect((await call(`${s.url}/v1/contacts/abc`, { key: s.key, method: 'POST', body: {} })).status).toBe(405);
    expect((await call(`${s.url}/v1/contacts/batch`, { key: s.key })).body).toMatchObject({ code: 'NOT_FOUND', message: 'Contact not found' });
  });
});
