// Canonical spellings: every `id` and `type` we return uses these, whatever casing the caller used (R1.5).
export const Namespaces = {
  ContainerService: 'Microsoft.ContainerService',
  Resources: 'Microsoft.Resources',
} as const;

export const ResourceTypes = {
  managedClusters: `${Namespaces.ContainerService}/managedClusters`,
  agentPools: `${Namespaces.ContainerService}/managedClusters/agentPools`,
  resourceGroups: `${Namespaces.Resources}/resourceGroups`,
  operations: `${Namespaces.ContainerService}/locations/operations`,
} as const;

export const subscriptionId = (sub: string): string => `/subscriptions/${sub}`;

export const resourceGroupId = (sub: string, rg: string): string => `/subscriptions/${sub}/resourceGroups/${rg}`;

export const managedClusterId = (sub: string, rg: string, cluster: string): string =>
  `${resourceGroupId(sub, rg)}/providers/${Namespaces.ContainerService}/managedClusters/${cluster}`;

export const agentPoolId = (sub: string, rg: string, cluster: string, pool: string): string => `${managedClusterId(sub, rg, cluster)}/agentPools/${pool}`;

export const locationScopedId = (sub: string, namespace: string, location: string, type: string, name: string): string =>
  `/subscriptions/${sub}/providers/${namespace}/locations/${location}/${type}/${name}`;

/** Lower-cased form used as a lookup key: ARM names are case-insensitive (R1.2). */
export const resourceKey = (id: string): string => id.toLowerCase();

/** A parsed ARM resource id (`/subscriptions/{s}[/resourceGroups/{g}][/providers/{ns}/{type}/{name}[/{type}/{name}...]]`). */
export interface ParsedResourceId {
  subscriptionId: string;
  resourceGroup?: string;
  /** `Namespace/type[/childType...]`; absent for a subscription or resource group id. */
  type?: string;
  /** `name[/childName...]`. */
  name?: string;
}

// A name segment of an id: what ARM accepts in a name (R1.6: no `< > % & : \ ? /`, no control characters), ≤ 260.
// eslint-disable-next-line no-control-regex -- control characters are refused on purpose
const ID_SEGMENT = /^[^<>%&:\\?/#\s\u0000-\u001f\u007f]{1,260}$/u;

/**
 * Parses a fully qualified ARM resource id. Undefined for anything else: a URL, a scheme or host (`//host:port/x`),
 * empty or `.`/`..` segments, query strings, percent-escapes, or a provider path with an odd number of segments.
 */
export function parseResourceId(id: string): ParsedResourceId | undefined {
  if (id.length > 2048 || !id.startsWith('/')) return undefined;
  const segs = id.slice(1).split('/');
  if (segs.some((s) => !ID_SEGMENT.test(s) || s === '.' || s === '..')) return undefined;
  if (segs.length < 2 || segs[0]?.toLowerCase() !== 'subscriptions') return undefined;
  const out: ParsedResourceId = { subscriptionId: segs[1] as string };
  let i = 2;
  if (segs[i]?.toLowerCase() === 'resourcegroups') {
    if (segs.length < 4) return undefined;
    out.resourceGroup = segs[3] as string;
    i = 4;
  }
  if (i === segs.length) return out;
  if (segs[i]?.toLowerCase() !== 'providers') return undefined;
  const rest = segs.slice(i + 2);
  if (segs[i + 1] === undefined || rest.length === 0 || rest.length % 2 !== 0) return undefined;
  out.type = [segs[i + 1], ...rest.filter((_, k) => k % 2 === 0)].join('/');
  out.name = rest.filter((_, k) => k % 2 === 1).join('/');
  return out;
}
