import { AKS_API, armList, ArmRequestError, RESOURCES_API, withApiVersion } from './arm';
import { isUnder } from './format';
import { Cluster, Machine, Operation, Pool, ResourceGroup, Subscription } from './model';

const aks = (path: string, query: Record<string, string | undefined> = {}) => withApiVersion(path, AKS_API, query);
const res = (path: string) => withApiVersion(path, RESOURCES_API);

export const listSubscriptions = async () => (await armList<Subscription>(res('/subscriptions'))).items;
export const listGroups = async (sub: string) => (await armList<ResourceGroup>(res(`/subscriptions/${sub}/resourceGroups`))).items;
export const listClusters = async (sub: string) =>
  (await armList<Cluster>(aks(`/subscriptions/${sub}/providers/Microsoft.ContainerService/managedClusters`))).items;
/**
 * A cluster read from its group's list rather than its own GET: lists answer If-None-Match with 304, while a
 * cluster GET carries the resource ETag (R13.1) and is always a full 200.
 */
export async function getCluster(id: string): Promise<Cluster> {
  const group = id.split('/').slice(0, 5).join('/');
  const found = (await armList<Cluster>(aks(`${group}/providers/Microsoft.ContainerService/managedClusters`))).items.find(
    (c) => c.id.toLowerCase() === id.toLowerCase(),
  );
  if (!found) throw new ArmRequestError(404, { code: 'ResourceNotFound', message: `The managed cluster '${id.split('/').pop()}' was not found.` });
  return found;
}
export const listPools = async (clusterId: string) => (await armList<Pool>(aks(`${clusterId}/agentPools`))).items;
export const listMachines = async (poolId: string) => (await armList<Machine>(aks(`${poolId}/machines`))).items;
const operationsUrl = (sub: string, location: string, query: Record<string, string>) =>
  aks(`/subscriptions/${sub}/providers/Microsoft.ContainerService/locations/${location}/operations`, query);
/** Every operation that matches (all pages). */
export const listOperations = async (sub: string, location: string, query: Record<string, string>) =>
  (await armList<Operation>(operationsUrl(sub, location, query))).items;
/** The newest `top` operations that match (the list is newest first: pages until `top` are in). */
export const newestOperations = async (sub: string, location: string, query: Record<string, string>, top: number) =>
  (await armList<Operation>(operationsUrl(sub, location, { ...query, $top: String(top) }), top)).items;
export const listLocations = async (sub: string) => (await armList<{ name: string; displayName: string }>(res(`/subscriptions/${sub}/locations`))).items;

export interface ClusterSummary {
  cluster: Cluster;
  resourceGroup: string;
  nodes: { ready: number; total: number };
  running?: Operation;
}

export interface OverviewModel {
  subscriptions: { subscription: Subscription; groups: { group: ResourceGroup; clusters: ClusterSummary[] }[] }[];
}

const rgOf = (id: string) => id.split('/')[4] ?? '';

/** Everything the overview shows, read through the public API. */
export async function loadOverview(): Promise<OverviewModel> {
  const subs = await listSubscriptions();
  const out: OverviewModel = { subscriptions: [] };
  for (const subscription of subs) {
    const sub = subscription.subscriptionId;
    const [groups, clusters] = await Promise.all([listGroups(sub), listClusters(sub)]);
    const locations = [...new Set(clusters.map((c) => c.location))];
    const running = (await Promise.all(locations.map((l) => listOperations(sub, l, { status: 'InProgress' })))).flat();
    const summaries = await Promise.all(
      clusters.map(async (cluster): Promise<ClusterSummary> => {
        const pools = cluster.properties.agentPoolProfiles ?? [];
        const machines = (await Promise.all(pools.map((p) => listMachines(`${cluster.id}/agentPools/${p.name}`).catch(() => [] as Machine[])))).flat();
        return {
          cluster,
          resourceGroup: rgOf(cluster.id),
          nodes: { ready: machines.filter((m) => m.properties.nodeStatus.ready === 'True').length, total: pools.reduce((n, p) => n + p.count, 0) },
          running: running.find((o) => o.resourceId && isUnder(o.resourceId, cluster.id) && o.kind !== 'cluster.abort'),
        };
      }),
    );
    out.subscriptions.push({
      subscription,
      groups: groups.map((group) => ({ group, clusters: summaries.filter((s) => s.resourceGroup.toLowerCase() === group.name.toLowerCase()) })),
    });
  }
  return out;
}
