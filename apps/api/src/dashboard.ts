import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DASHBOARD_PATH = '/dashboard';

/** Where `npm run build` puts the dashboard (vite, apps/dashboard/vite.config.ts), next to dist/apps. */
export const dashboardRoot = (): string => resolve(__dirname, '../../../dashboard');

/**
 * What the built bundle needs and nothing more: its module script and stylesheet from this origin (vite emits
 * no inline script or style; React's `style={{…}}` goes through CSSOM, which style-src does not govern), fetch
 * to the API on this origin, and no framing by anyone (the page holds a token: no clickjacking).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const DASHBOARD_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * Serves the operator dashboard's static files at /dashboard (no token: the page itself holds no data; it
 * calls the public ARM API with the token its user gives it), every answer with DASHBOARD_SECURITY_HEADERS.
 * Any other /dashboard/* path answers the single-page app's index.html. Returns false when the dashboard was not built.
 */
export async function registerDashboard(fastify: FastifyInstance, root = dashboardRoot()): Promise<boolean> {
  if (!existsSync(join(root, 'index.html'))) return false;
  // Its own encapsulated context: the headers hook applies to the dashboard's routes only, not to the API.
  await fastify.register(async (scope) => {
    scope.addHook('onRequest', async (_req, reply) => {
      void reply.headers(DASHBOARD_SECURITY_HEADERS);
    });
    await scope.register(fastifyStatic, { root, prefix: `${DASHBOARD_PATH}/`, wildcard: false, index: false, decorateReply: true, cacheControl: false });
    const index = (_req: unknown, reply: FastifyReply) => {
      void reply.header('Cache-Control', 'no-cache');
      return reply.sendFile('index.html');
    };
    scope.get(DASHBOARD_PATH, index);
    scope.get(`${DASHBOARD_PATH}/*`, index);
  });
  return true;
}
