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

export const agentPoolId = (sub: string, rg: string, cluster: string, pool: string): string =>
  `${managedClusterId(sub, rg, cluster)}/agentPools/${pool}`;

export const locationScopedId = (sub: string, namespace: string, location: string, type: string, name: string): string =>
  `/subscriptions/${sub}/providers/${namespace}/locations/${location}/${type}/${name}`;

/** Lower-cased form used as a lookup key: ARM names are case-insensitive (R1.2). */
export const resourceKey = (id: string): string => id.toLowerCase();
