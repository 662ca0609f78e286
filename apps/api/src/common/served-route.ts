import type { FastifyRequest } from 'fastify';

/** A route pattern with its `:name` parameters filled in from the request; undefined when one is missing or empty. */
function fill(pattern: string, req: FastifyRequest): string | undefined {
  const params = (req.params ?? {}) as Record<string, string | undefined>;
  let missing = false;
  const filled = pattern.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === '') missing = true;
    return value ?? '';
  });
  return missing ? undefined : filled;
}

/**
 * The path the router served, rebuilt from the matched route and its decoded parameters: the one view of a
 * request that authorization, the activity log and the handlers share, so none of them can read a path
 * other than the one that was routed. Undefined when no route matched (the answer is then a 404).
 */
export function servedPath(req: FastifyRequest): string | undefined {
  const pattern = req.routeOptions?.url;
  const path = pattern ? fill(pattern, req) : undefined;
  return path === undefined ? undefined : path.replace(/\/+$/, '') || '/';
}

/**
 * The part of the served path before `marker` (a literal segment chain of the route, e.g.
 * `/providers/Microsoft.Authorization/`): the scope an extension resource hangs under, taken from the route's
 * own parameters. A route declared at the root gives `/`; anything else that does not contain the marker is
 * a programming error, never a default.
 */
export function servedScope(req: FastifyRequest, marker: string): string {
  const pattern = req.routeOptions?.url ?? '';
  const at = pattern.toLowerCase().lastIndexOf(marker.toLowerCase());
  if (at === -1) throw new Error(`route ${pattern} has no '${marker}'`);
  if (at === 0) return '/';
  const scope = fill(pattern.slice(0, at), req);
  if (scope === undefined) throw new Error(`route ${pattern} served without one of its parameters`);
  return scope;
}
