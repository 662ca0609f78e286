import { Accepted, AKS_API, armGet, armWrite, withApiVersion } from './arm';
import { Cluster, Pool, UpgradeProfile } from './model';

const aks = (path: string) => withApiVersion(path, AKS_API);

// What a GET returns that a PUT must not send back changed (R5.3): dropped before the round trip.
const READ_ONLY_POOL = ['provisioningState', 'eTag', 'currentOrchestratorVersion', 'nodeImageVersion', 'status'];
const READ_ONLY_CLUSTER = ['provisioningState', 'powerState', 'currentKubernetesVersion', 'fqdn', 'azurePortalFQDN', 'maxAgentPools', 'status', 'resourceUID'];

const without = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

/** Scale: read the pool, change its count, write it back (what `az aks nodepool scale` does). */
export async function scalePool(poolId: string, count: number): Promise<Accepted> {
  const { body } = await armGet<Pool>(aks(poolId));
  const properties = { ...without(body.properties as unknown as Record<string, unknown>, READ_ONLY_POOL), count };
  return armWrite('PUT', aks(poolId), { properties });
}

export const upgradeProfile = async (clusterId: string) => (await armGet<UpgradeProfile>(aks(`${clusterId}/upgradeProfiles/default`))).body;

/** Upgrade the control plane and every pool to `version` (what `az aks upgrade` does). */
export async function upgradeCluster(clusterId: string, version: string): Promise<Accepted> {
  const { body } = await armGet<Cluster & Record<string, unknown>>(aks(clusterId));
  const props = without(body.properties as unknown as Record<string, unknown>, READ_ONLY_CLUSTER);
  const pools = (body.properties.agentPoolProfiles ?? []).map((p) => ({
    ...without(p as unknown as Record<string, unknown>, READ_ONLY_POOL),
    orchestratorVersion: version,
  }));
  const put = {
    location: body.location,
    tags: body.tags,
    sku: body.sku,
    ...(body.identity ? { identity: body.identity } : {}),
    properties: { ...props, kubernetesVersion: version, agentPoolProfiles: pools },
  };
  return armWrite('PUT', aks(clusterId), put);
}

export const clusterAction = (clusterId: string, action: 'start' | 'stop' | 'abort') => armWrite('POST', aks(`${clusterId}/${action}`));
export const deleteCluster = (clusterId: string) => armWrite('DELETE', aks(clusterId));
