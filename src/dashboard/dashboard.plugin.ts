/**
 * The dashboard at `/`: the built UI (packages/dashboard/dist, made by `npm run build`) and its
 * JSON API (dashboard-api.routes.ts). Files are sent by @fastify/static (`sendFile` only: no
 * wildcard route of its own), from `/assets/*`; the UI's own paths (a fixed list, below) answer
 * its index.html. Every other path stays the API's JSON 404: the dashboard claims no catch-all.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboardApiRoutes, type DashboardApiOptions } from './dashboard-api.routes.js';

/** packages/dashboard/dist at the package root (two levels above src/dashboard and dist/dashboard). */
export const UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'dashboard', 'dist');

/** The UI's client-side routes (packages/dashboard/src/app.tsx): each answers index.html. */
export const UI_PATHS = ['/', '/sign-in', '/setup', '/live', '/events/:messageId', '/contacts', '/contacts/:id', '/segments', '/segments/:id', '/workflows', '/workflows/:id', '/runs/:id', '/deliveries', '/deliveries/:id', '/failed', '/settings/api', '/catalog'];

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>SMASHSEND</title>
<p>The dashboard is not built. Run <code>npm run build</code> and reload.</p>`;

const uiRoutes: FastifyPluginAsync<{ root: string }> = async (app, { root }) => {
  await app.register(fastifyStatic, { root, serve: false });
  const config = () => ({ internal: 'dashboard' as const });
  // Hashed file names (Vite): cached for a year; index.html never.
  app.get<{ Params: { '*': string } }>('/assets/*', { config: config() }, async (req, reply) =>
    reply.header('cache-control', 'public, max-age=31536000, immutable').sendFile(join('assets', req.params['*']), root),
  );
  for (const path of UI_PATHS) {
    app.get(path, { config: config() }, async (_req, reply) => {
      reply.header('cache-control', 'no-store').header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer');
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
      if (!existsSync(join(root, 'index.html'))) return reply.type('text/html; charset=utf-8').send(NOT_BUILT);
      return reply.sendFile('index.html', root);
    });
  }
};

export function mountDashboard(app: FastifyInstance, api: DashboardApiOptions, root = UI_DIR): void {
  void app.register(dashboardApiRoutes, api);
  void app.register(uiRoutes, { root });
}
