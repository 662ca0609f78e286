import { ResourceNormalizer } from './diff';

// A starting point for managed clusters, from the read-only properties of the 2025+ AKS specs. The API layer
// knows the server defaults it applies and should extend these (see README).
const POOL_READ_ONLY = [
  'provisioningState',
  'powerState',
  'currentOrchestratorVersion',
  'nodeImageVersion',
  'eTag',
];

export const managedClusterNormalizer: ResourceNormalizer = {
  ignore: [
    'properties.powerState',
    'properties.fqdn',
    'properties.azurePortalFQDN',
    'properties.privateFQDN',
    'properties.maxAgentPools',
    'properties.currentKubernetesVersion',
    'properties.identityProfile',
    'properties.resourceUID',
    'identity.principalId',
    'identity.tenantId',
    ...POOL_READ_ONLY.map((p) => `properties.agentPoolProfiles.*.${p}`),
  ],
  caseInsensitive: ['properties.agentPoolProfiles.*.vmSize', 'properties.agentPoolProfiles.*.name', 'identity.type'],
  arrayKeys: { 'properties.agentPoolProfiles': 'name' },
  // A cluster PUT keeps the pools its agentPoolProfiles leave out (pools are added and deleted through agentPools):
  // a pool the template declares as an agentPools resource, or not at all, is no change of the cluster.
  keepLiveElements: ['properties.agentPoolProfiles'],
  // osDiskSizeGB 0 asks for the VM size's default disk, so any live size satisfies it.
  serverDefaults: { 'properties.agentPoolProfiles.*.osDiskSizeGB': 0 },
};

export const agentPoolNormalizer: ResourceNormalizer = {
  ignore: POOL_READ_ONLY.map((p) => `properties.${p}`),
  caseInsensitive: ['properties.vmSize'],
  serverDefaults: { 'properties.osDiskSizeGB': 0 },
};

/** Normalizers by resource type, ready for `whatIf(plan, live, { normalizers })`. */
export const DEFAULT_NORMALIZERS: Record<string, ResourceNormalizer> = {
  'Microsoft.ContainerService/managedClusters': managedClusterNormalizer,
  'Microsoft.ContainerService/managedClusters/agentPools': agentPoolNormalizer,
};
