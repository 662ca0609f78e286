import { agentPoolId, managedClusterId } from '@cerulean/arm';
import { KubernetesVersionCatalog, NodeImageCatalog, compareVersions } from '@cerulean/catalog';
import { AgentPoolEntity, ManagedClusterEntity } from '@cerulean/domain';
import { controlPlanePatch, poolPatch } from '../clusters/version-rules';

const versions = new KubernetesVersionCatalog();
const nodeImages = new NodeImageCatalog();

const upgradeItem = (v: string) => ({ kubernetesVersion: v, ...(versions.isPreview(v) ? { isPreview: true } : {}) });

/** Versions a pool may move to: the catalog's upgrade paths, never past the control plane. */
function poolUpgrades(p: AgentPoolEntity, controlPlane: string): string[] {
  return versions.upgradesFrom(poolPatch(p)).filter((v) => compareVersions(v, controlPlane) <= 0);
}

/** `managedClusters/{c}/upgradeProfiles/default` (ManagedClusterUpgradeProfile). */
export function clusterUpgradeProfile(c: ManagedClusterEntity, rgName: string, pools: AgentPoolEntity[]) {
  const cp = controlPlanePatch(c);
  return {
    id: `${managedClusterId(c.subscriptionId, rgName, c.name)}/upgradeprofiles/default`,
    name: 'default',
    type: 'Microsoft.ContainerService/managedClusters/upgradeprofiles',
    properties: {
      controlPlaneProfile: { kubernetesVersion: cp, name: null, osType: 'Linux', upgrades: versions.upgradesFrom(cp).map(upgradeItem) },
      // As AKS lists them for `az aks get-upgrades`: each pool's upgrades follow the control plane's (it upgrades first).
      agentPoolProfiles: pools.map((p) => ({
        kubernetesVersion: poolPatch(p),
        name: p.name,
        osType: p.osType,
        upgrades: versions.upgradesFrom(poolPatch(p)).map(upgradeItem),
      })),
    },
  };
}

/** `agentPools/{p}/upgradeProfiles/default` (AgentPoolUpgradeProfile). */
export function agentPoolUpgradeProfile(c: ManagedClusterEntity, rgName: string, p: AgentPoolEntity) {
  return {
    id: `${agentPoolId(c.subscriptionId, rgName, c.name, p.name)}/upgradeprofiles/default`,
    name: 'default',
    type: 'Microsoft.ContainerService/managedClusters/agentPools/upgradeProfiles',
    properties: {
      kubernetesVersion: poolPatch(p),
      osType: p.osType,
      upgrades: poolUpgrades(p, controlPlanePatch(c)).map(upgradeItem),
      latestNodeImageVersion: nodeImages.latest().version,
    },
  };
}

/** `availableAgentPoolVersions`: versions a new pool may use (not newer than the control plane). */
export function availableAgentPoolVersions(c: ManagedClusterEntity, rgName: string) {
  const cp = controlPlanePatch(c);
  const defaultVersion = versions.defaultVersion();
  return {
    id: `${managedClusterId(c.subscriptionId, rgName, c.name)}/availableagentpoolversions`,
    name: 'default',
    type: 'Microsoft.ContainerService/managedClusters/availableAgentpoolversions',
    properties: {
      agentPoolVersions: versions
        .allPatches()
        .filter((v) => compareVersions(v, cp) <= 0)
        .map((v) => ({ kubernetesVersion: v, ...(v === defaultVersion ? { default: true } : {}), ...(versions.isPreview(v) ? { isPreview: true } : {}) })),
    },
  };
}
