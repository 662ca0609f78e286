import { ResourceTypes } from '@cerulean/arm';
import { agentPoolNormalizer, managedClusterNormalizer, ResourceNormalizer } from '@cerulean/templates';

// What the platform fills in or computes on top of what a PUT asked for (see cluster.mapper.ts and
// agent-pool-settings.ts): a template that leaves them out, or sets them to the default, must not show a change.
const POOL_SERVER_SET = ['eTag', 'osDiskType', 'kubeletDiskType', 'type', 'scaleDownMode', 'enableNodePublicIP', 'enableFIPS', 'status'];

export const clusterNormalizer: ResourceNormalizer = {
  ...managedClusterNormalizer,
  ignore: [
    ...(managedClusterNormalizer.ignore ?? []),
    'eTag',
    'properties.nodeResourceGroup',
    'properties.status',
    ...POOL_SERVER_SET.map((p) => `properties.agentPoolProfiles.*.${p}`),
  ],
  caseInsensitive: [...(managedClusterNormalizer.caseInsensitive ?? []), 'properties.agentPoolProfiles.*.mode', 'properties.agentPoolProfiles.*.osType'],
};

export const poolNormalizer: ResourceNormalizer = {
  ...agentPoolNormalizer,
  ignore: [...(agentPoolNormalizer.ignore ?? []), ...POOL_SERVER_SET.map((p) => `properties.${p}`)],
  caseInsensitive: [...(agentPoolNormalizer.caseInsensitive ?? []), 'properties.mode', 'properties.osType'],
};

/** What-if normalizers of the hosted types. */
export const WHAT_IF_NORMALIZERS: Record<string, ResourceNormalizer> = {
  [ResourceTypes.managedClusters]: clusterNormalizer,
  [ResourceTypes.agentPools]: poolNormalizer,
};
