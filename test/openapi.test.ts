/**
 * GET /openapi.json: an OpenAPI 3.1 document of every route, with each route's error codes,
 * built from the routes' contracts without changing how any request is validated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ev } from '../src/testing/http.js';
import { startTestServer, type TestServer } from '../src/testing/test-server.js';

let s: TestServer;
let doc: any;

beforeAll(async () => {
  s = await startTestServer();
  const r = await call(`${s.url}/openapi.json`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toContain('application/json');
  doc = r.body;
});
afterAll(async () => {
  await s.close();
});

const openapiPath = (url: string) => url.replace(/:([A-Za-z]+)/g, '{$1}');

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document served without a key', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toMatch(/Events API/);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('lists every registered route, each with a summary, its responses and its error codes', () => {
    const routes = [...s.server.routes];
    expect(routes.length).toBeGreaterThan(10);
    for (const [url, methods] of routes) {
      for (const method of methods) {
        if (method === 'HEAD') continue;
        const op = doc.paths[openapiPath(url)]?.[method.toLowerCase()];
        expect(op, `${method} ${url}`).toBeDefined();
        expect(op.summary, `${method} ${url}`).toBeTruthy();
        expect(op.tags?.length, `${method} ${url}`).toBeGreaterThan(0);
        const statuses = Object.keys(op.responses);
        expect(statuses.some((st) => st.startsWith('2')), `${method} ${url}`).toBe(true);
        expect(op.responses['400'].content['application/json'].schema.properties.code.enum, `${method} ${url}`).toContain('INVALID_QUERY');
        expect(op.responses['500'], `${method} ${url}`).toBeDefined();
      }
    }
    // No path in the document that the server does not serve (derived 405s, NOT_IMPLEMENTED calls).
    const served = new Set(routes.map(([url]) => openapiPath(url)));
    for (const path of Object.keys(doc.paths)) expect(served.has(path), path).toBe(true);
    expect(doc.paths['/v1/contacts/batch']).toBeUndefined();
  });

  it('names the catalogue codes per route', () => {
    const send = doc.paths['/v1/events'].post;
    expect(send.security).toEqual([{ bearerAuth: [] }]);
    expect(send.responses['401'].content['application/json'].schema.properties.code.enum).toEqual(['INVALID_API_KEY']);
    expect(send.responses['413'].content['application/json'].schema.properties.code.enum).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(send.responses['415']).toBeDefined();
    expect(send.responses['429'].content['application/json'].schema.properties.code.enum).toEqual(['RATE_LIMITED']);
    expect(send.responses['400'].content['application/json'].schema.properties.code.enum).toEqual(
      expect.arrayContaining(['INVALID_JSON', 'INVALID_BODY', 'INVALID_EVENT_NAME', 'EVENT_NAME_TOO_LONG', 'INVALID_EMAIL']),
    );
    expect(doc.paths['/v1/events/batch'].post.responses['207']).toBeDefined();
    expect(doc.paths['/v1/contacts/{id}'].put.responses['409'].content['application/json'].schema.properties.code.enum).toEqual(['CONFLICT']);
    expect(doc.paths['/v1/contacts/{id}'].get.responses['404'].content['application/json'].schema.properties.code.enum).toEqual(['NOT_FOUND']);
    const health = doc.paths['/health'].get;
    expect(health.security).toEqual([]);
    expect(health.responses['401']).toBeUndefined();
    // Query parameters are those the route accepts.
    const list = doc.paths['/v1/events'].get.parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name);
    expect(list.sort()).toEqual(['cursor', 'email', 'event', 'limit', 'since', 'status', 'until']);
    expect(doc.paths['/v1/events/{messageId}'].get.parameters.find((p: any) => p.in === 'path').name).toBe('messageId');
  });

  it('the documented schemas are not used for validation: messages stay those of SPEC.md', async () => {
    // Documented as an integer 1..1000 and a pattern-checked name; our validators answer.
    const limit = await call(`${s.url}/v1/events?limit=abc`, { key: s.key });
    expect(limit.body).toMatchObject({ code: 'INVALID_QUERY', message: '"limit" must be a whole number from 1 to 1000' });
    const name = await call(`${s.url}/v1/events`, { key: s.key, body: ev({ event: 'bad name!' }) });
    expect(name.body.message).toBe('Event name can only contain alphanumeric characters, underscores, hyphens, dots, and colons');
    // Undocumented fields are still ignored (no additionalProperties enforcement), and answers are not filtered by a serializer.
    const ok = await call(`${s.url}/v1/events`, { key: s.key, body: ev({ messageId: 'oa-1', extra: { deep: true } }) });
    expect(ok.body).toEqual({ success: true, messageId: 'oa-1', info: 'Event queued for processing' });
    const got = await call(`${s.url}/v1/events/oa-1`, { key: s.key });
    expect(Object.keys(got.body.event)).toEqual(['messageId', 'event', 'email', 'contactId', 'properties', 'traits', 'timestamp', 'receivedAt', 'status']);
  });
});
