// Hash routes: the page state lives after '#', so the server only ever serves index.html and no token or
// id reaches a server log through a path.

export type Route = { page: 'overview' } | { page: 'cluster'; clusterId: string } | { page: 'operations'; filters: Record<string, string> };

export const clusterHref = (clusterId: string): string => `#/cluster${clusterId}`;
export const operationsHref = (filters: Record<string, string> = {}): string => {
  const q = new URLSearchParams(filters).toString();
  return `#/operations${q ? `?${q}` : ''}`;
};

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '');
  if (h.startsWith('/cluster/')) return { page: 'cluster', clusterId: h.slice('/cluster'.length) };
  if (h.startsWith('/operations')) {
    const q = h.indexOf('?');
    return { page: 'operations', filters: Object.fromEntries(new URLSearchParams(q >= 0 ? h.slice(q + 1) : '')) };
  }
  return { page: 'overview' };
}
