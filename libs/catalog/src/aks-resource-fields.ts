/**
 * What AKS itself owns in its resources' bodies: the one list of server-owned fields of a managed cluster and
 * an agent pool, and the what-if comparison rules that follow from them. The API's cluster writes (which
 * fields a PUT never stores) and template what-if (which fields never count as a change) both read it here;
 * the generic template library knows no resource type.
 *
 * The what-if rules are plain data in the shape of libs/templates' `ResourceNormalizer`.
 */

/** Properties of an agent pool that the service sets or computes (read-only in the 2025+ AKS specs). */
export const POOL_READ_ONLY = ['provisioningState', 'powerState', 'currentOrchestratorVersion', 'nodeImageVersion', 'eTag'] as const;

/** What the platform fills in on a pool on top of what a PUT asked for (defaults it applies and reports back). */
export const POOL_SERVER_SET = ['eTag', 'osDiskType', 'kubeletDiskType', 'type', 'scaleDownMode', 'enableNodePublicIP', 'enableFIPS', 'status'] as const;

/** Cluster properties that are read-only (R5.3): the service computes them; a PUT's value is never stored. */
export const CLUSTER_READ_ONLY = [
  'provisioningState',
  'powerState',
  'maxAgentPools',
  'currentKubernetesVersion',
  'fqdn',
  'privateFQDN',
  'azurePortalFQDN',
  'resourceUID',
  'status',
] as const;

/** Cluster properties the service stores in columns of their own, not among the extra properties. */
export const CLUSTER_MODELLED = ['agentPoolProfiles', 'kubernetesVersion', 'dnsPrefix', 'nodeResourceGroup'] as const;

/** Write-only secrets inside cluster properties (R5.4): accepted on PUT, never stored or returned. */
export const CLUSTER_SECRETS: Readonly<Record<string, readonly string[]>> = {
  servicePrincipalProfile: ['secret'],
  windowsProfile: ['adminPassword'],
};

/** What-if rules, in the shape of libs/templates' ResourceNormalizer. */
export interface WhatIfRules {
  ignore?: string[];
  caseInsensitive?: string[];
  arrayKeys?: Record<string, string>;
  keepLiveElements?: string[];
  serverDefaults?: Record<string, string | number | boolean | null>;
}

// What-if also passes over what the platform fills in that a template may set: the node resource group it
// names and the kubelet identity it makes.
const CLUSTER_SERVER_FIELDS = [...CLUSTER_READ_ONLY.filter((p) => p !== 'provisioningState'), 'nodeResourceGroup', 'identityProfile'];

/** A managed cluster compared as AKS answers it. */
export const MANAGED_CLUSTER_WHAT_IF: WhatIfRules = {
  ignore: [
    'eTag',
    ...CLUSTER_SERVER_FIELDS.map((p) => `properties.${p}`),
    'identity.principalId',
    'identity.tenantId',
    ...[...POOL_READ_ONLY, ...POOL_SERVER_SET].map((p) => `properties.agentPoolProfiles.*.${p}`),
  ],
  caseInsensitive: [
    'properties.agentPoolProfiles.*.vmSize',
    'properties.agentPoolProfiles.*.name',
    'identity.type',
    'properties.agentPoolProfiles.*.mode',
    'properties.agentPoolProfiles.*.osType',
  ],
  arrayKeys: { 'properties.agentPoolProfiles': 'name' },
  // A cluster PUT keeps the pools its agentPoolProfiles leave out (pools are added and deleted through agentPools):
  // a pool the template declares as an agentPools resource, or not at all, is no change of the cluster.
  keepLiveElements: ['properties.agentPoolProfiles'],
  // osDiskSizeGB 0 asks for the VM size's default disk, so any live size satisfies it.
  serverDefaults: { 'properties.agentPoolProfiles.*.osDiskSizeGB': 0 },
};

/** An agent pool compared as AKS answers it. */
export const AGENT_POOL_WHAT_IF: WhatIfRules = {
  ignore: [...POOL_READ_ONLY, ...POOL_SERVER_SET].map((p) => `properties.${p}`),
  caseInsensitive: ['properties.vmSize', 'properties.mode', 'properties.osType'],
  serverDefaults: { 'properties.osDiskSizeGB': 0 },
};

/** What-if rules by resource type. */
export const AKS_WHAT_IF_RULES: Readonly<Record<string, WhatIfRules>> = {
  'Microsoft.ContainerService/managedClusters': MANAGED_CLUSTER_WHAT_IF,
  'Microsoft.ContainerService/managedClusters/agentPools': AGENT_POOL_WHAT_IF,
};
