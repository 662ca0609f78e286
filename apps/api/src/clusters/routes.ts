/** Route paths of a managed cluster and its agent pools (Fastify's rewriteUrl has fixed their casing). */
export const CLUSTERS_ROUTE = 'subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.ContainerService/managedClusters';
export const CLUSTER_ROUTE = `${CLUSTERS_ROUTE}/:resourceName`;
export const POOLS_ROUTE = `${CLUSTER_ROUTE}/agentPools`;
export const POOL_ROUTE = `${POOLS_ROUTE}/:agentPoolName`;

export interface ClusterPath {
  subscriptionId: string;
  resourceGroupName: string;
  resourceName: string;
}

export interface PoolPath extends ClusterPath {
  agentPoolName: string;
}
