import { agentPoolId, managedClusterId, ResourceTypes } from '@cerulean/arm';
import {
  AUTOMATIC_NETWORK_PROFILE,
  DEFAULT_DNS_SERVICE_IP,
  DEFAULT_POD_CIDR,
  DEFAULT_SERVICE_CIDR,
  isAutomaticSku,
  KubernetesVersionCatalog,
  managedClusterServerProperties,
} from '@cerulean/catalog';
import { AgentPoolEntity, ManagedClusterEntity } from '@cerulean/domain';
import { controlPlanePatch } from './version-rules';

const versions = new KubernetesVersionCatalog();

/** AKS's defaults for a cluster network the user did not describe (Azure CNI overlay). */
const DEFAULT_NETWORK_PROFILE = {
  networkPlugin: 'azure',
  networkPluginMode: 'overlay',
  networkPolicy: 'none',
  podCidr: DEFAULT_POD_CIDR,
  serviceCidr: DEFAULT_SERVICE_CIDR,
  dnsServiceIP: DEFAULT_DNS_SERVICE_IP,
  outboundType: 'loadBalancer',
  loadBalancerSku: 'standard',
  podCidrs: [DEFAULT_POD_CIDR],
  serviceCidrs: [DEFAULT_SERVICE_CIDR],
  ipFamilies: ['IPv4'],
};

/** The agent pool's properties as AKS returns them (in a cluster's agentPoolProfiles or an AgentPool resource). */
export function agentPoolProperties(p: AgentPoolEntity, clusterVersion: string) {
  return {
    ...p.properties,
    eTag: p.etag,
    count: p.count,
    vmSize: p.vmSize,
    osDiskSizeGB: p.osDiskSizeGb,
    osDiskType: 'Managed',
    kubeletDiskType: 'OS',
    maxPods: p.maxPods,
    type: 'VirtualMachineScaleSets',
    ...(p.availabilityZones.length ? { availabilityZones: p.availabilityZones } : {}),
    enableAutoScaling: p.enableAutoScaling,
    ...(p.minCount !== null ? { minCount: p.minCount } : {}),
    ...(p.maxCount !== null ? { maxCount: p.maxCount } : {}),
    scaleDownMode: 'Delete',
    provisioningState: p.provisioningState,
    powerState: { code: p.powerState },
    orchestratorVersion: p.orchestratorVersion,
    currentOrchestratorVersion: p.currentOrchestratorVersion ?? versions.resolve(p.orchestratorVersion) ?? clusterVersion,
    enableNodePublicIP: false,
    tags: p.tags,
    nodeLabels: p.nodeLabels,
    nodeTaints: p.nodeTaints,
    mode: p.mode,
    osType: p.osType,
    osSKU: p.osSku,
    nodeImageVersion: p.nodeImageVersion,
    upgradeSettings: p.upgradeSettings,
    enableFIPS: false,
    ...(p.provisioningError ? { status: { provisioningError: p.provisioningError } } : {}),
  };
}

export function toAgentPool(c: ManagedClusterEntity, rgName: string, p: AgentPoolEntity) {
  return {
    id: agentPoolId(c.subscriptionId, rgName, c.name, p.name),
    name: p.name,
    type: ResourceTypes.agentPools,
    systemData: p.systemData,
    properties: agentPoolProperties(p, c.kubernetesVersion),
  };
}

export function toManagedCluster(c: ManagedClusterEntity, rgName: string, pools: AgentPoolEntity[]) {
  const userNetwork = (c.properties.networkProfile ?? {}) as Record<string, unknown>;
  return {
    id: managedClusterId(c.subscriptionId, rgName, c.name),
    name: c.name,
    type: ResourceTypes.managedClusters,
    location: c.location,
    tags: c.tags,
    eTag: c.etag,
    sku: c.sku,
    ...(c.identity ? { identity: c.identity } : {}),
    ...(c.kind ? { kind: c.kind } : {}),
    systemData: c.systemData,
    properties: {
      ...managedClusterServerProperties({
        subscriptionId: c.subscriptionId,
        name: c.name,
        nodeResourceGroup: c.nodeResourceGroup,
        identity: c.identity,
        properties: c.properties,
        autoscaled: pools.some((p) => p.enableAutoScaling),
        sku: c.sku,
      }),
      provisioningState: c.provisioningState,
      powerState: { code: c.powerState },
      maxAgentPools: 100,
      kubernetesVersion: c.kubernetesVersion,
      currentKubernetesVersion: controlPlanePatch(c),
      dnsPrefix: c.dnsPrefix,
      fqdn: c.fqdn,
      azurePortalFQDN: c.fqdn.replace('.hcp.', '.portal.hcp.'),
      agentPoolProfiles: [...pools]
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.nameKey.localeCompare(b.nameKey))
        .map((p) => ({ name: p.name, ...agentPoolProperties(p, c.kubernetesVersion) })),
      nodeResourceGroup: c.nodeResourceGroup,
      enableRBAC: c.properties.enableRBAC ?? true,
      supportPlan: c.properties.supportPlan ?? 'KubernetesOfficial',
      networkProfile: { ...DEFAULT_NETWORK_PROFILE, ...(isAutomaticSku(c.sku) ? AUTOMATIC_NETWORK_PROFILE : {}), ...userNetwork },
      resourceUID: c.id,
      ...(c.provisioningError ? { status: { provisioningError: c.provisioningError } } : {}),
    },
  };
}
