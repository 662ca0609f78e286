import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DASHBOARD_PATH = '/dashboard';

/** Where `npm run build` puts the dashboard (vite, apps/dashboard/vite.config.ts), next to dist/apps. */
export const dashboardRoot = (): string => resolve(__dirname, '../../../dashboard');

/**
 * Serves the operator dashboard's static files at /dashboard (no token: the page itself holds no data; it
 * calls the public ARM API with the token its user gives it). Any other /dashboard/* path answers the
 * single-page app's index.html. Returns false when the dashboard was not built.
 */
export async function registerDashboard(fastify: FastifyInstance, root = dashboardRoot()): Promise<boolean> {
  if (!existsSync(join(root, 'index.html'))) return false;
  await fastify.register(fastifyStatic, { root, prefix: `${DASHBOARD_PATH}/`, wildcard: false, index: false, decorateReply: true, cacheControl: false });
  const index = (_req: unknown, reply: { header: (k: string, v: string) => unknown; sendFile: (f: string) => unknown }) => {
    reply.header('Cache-Control', 'no-cache');
    return reply.sendFile('index.html');
  };
  fastify.get(DASHBOARD_PATH, index);
  fastify.get(`${DASHBOARD_PATH}/*`, index);
  return true;
}
