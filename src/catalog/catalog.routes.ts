/** GET /v1/catalog/events: the workspace's event catalogue (catalog-store.port.ts), also the dashboard's and the CLI's. */
import type { FastifyPluginAsync } from 'fastify';
import { iso } from '../http/paging.js';
import type { RouteContract } from '../http/route-contract.js';
import type { Guard } from '../http/route-deps.js';
import { typeNames, TYPE_NAMES } from './catalog-batch.js';
import { CATALOG_LIMITS } from './catalog.stage.js';
import type { CatalogStore } from './catalog-store.port.js';

export interface CatalogEventView {
  name: string;
  firstSeen: string;
  lastSeen: string;
  count: number;
  propertiesTruncated: boolean;
  properties: { path: string; types: string[] }[];
}

/** The catalogue in the API's shape: events by name, properties by path, types in TYPE_NAMES order. */
export async function catalogView(catalog: CatalogStore, workspaceId: string): Promise<{ events: CatalogEventView[] }> {
  const entries = await catalog.list(workspaceId, { maxEvents: CATALOG_LIMITS.maxEventNames, maxProperties: CATALOG_LIMITS.maxPropertiesPerEvent });
  return {
    events: entries.map((e) => ({
      name: e.name,
      firstSeen: iso(e.firstSeen),
      lastSeen: iso(e.lastSeen),
      count: e.count,
      propertiesTruncated: e.propertiesTruncated,
      properties: e.properties.map((p) => ({ path: p.path, types: typeNames(p.types) })),
    })),
  };
}

export const CATALOG_EVENTS: RouteContract = {
  summary: 'Event catalogue: every event name seen, its volume and the types of its properties',
  description:
    'Per workspace, every event name processed (accepted events only: duplicates and rejected events are not counted), ' +
    'by name: first and last receipt, how many, and for each property path (dotted for nested objects, up to 3 levels; ' +
    'arrays are not entered) the JSON types seen there. More than one type at a path is drift (a property sent as a ' +
    'string and as a number). Numbers are one type, `number` (JSON does not tell 1 from 1.0). Maintained after the ' +
    `contact merge, so it follows processing by a moment. At most ${CATALOG_LIMITS.maxEventNames} names per workspace and ` +
    `${CATALOG_LIMITS.maxPropertiesPerEvent} paths per name are kept; \`propertiesTruncated\` says an event had more.`,
  tags: ['Events'],
  query: {},
  responses: {
    200: {
      description: 'The catalogue, events by name',
      schema: {
        type: 'object',
        properties: {
          events: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                firstSeen: { type: 'string', format: 'date-time' },
                lastSeen: { type: 'string', format: 'date-time' },
                count: { type: 'integer' },
                propertiesTruncated: { type: 'boolean' },
                properties: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { path: { type: 'string' }, types: { type: 'array', items: { type: 'string', enum: TYPE_NAMES } } },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

export const catalogRoutes: FastifyPluginAsync<{ catalog: CatalogStore; guard: Guard }> = async (app, { catalog, guard }) => {
  app.get('/v1/catalog/events', { onRequest: guard('api'), config: { contract: CATALOG_EVENTS } }, async (req) => catalogView(catalog, req.workspaceId));
};
