/**
 * What AKS itself owns in its resources' bodies: the one list of server-owned fields of a managed cluster and
 * an agent pool, and the what-if comparison rules that follow from them. The API's cluster writes (which
 * fields a PUT never stores) and template what-if (which fields never count as a change) both read it here;
 * the generic template library knows no resource type.
 *
 * The what-if rules are plain data in the shape of libs/templates' `ResourceNormalizer`.
 */

import { createHash } from 'node:crypto';

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

/**
 * A GUID that is always the same for the same seed: the ids of identities the platform stands in for (the
 * kubelet identity it makes, a user-assigned identity named by resource id) are derived, never stored, so every
 * read of a cluster shows the same ones.
 */
export function stableGuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const isManagedIdentity = (identity: Record<string, unknown> | null | undefined): boolean =>
  typeof identity?.type === 'string' && ['systemassigned', 'userassigned'].includes(identity.type.toLowerCase());

/**
 * The cluster's `identity` as AKS answers it: a system-assigned identity gets its principal id (kept across
 * updates) and the installation's tenant; each user-assigned identity gets its principal and client ids.
 * A request without identity and without a service principal gets a system-assigned identity, as AKS does.
 */
export function managedClusterIdentity(
  requested: Record<string, unknown> | undefined,
  previous: Record<string, unknown> | null,
  ctx: { tenantId: string; servicePrincipalClientId?: unknown },
): Record<string, unknown> | null {
  if (!requested) {
    if (previous) return previous;
    const sp = ctx.servicePrincipalClientId;
    if (typeof sp === 'string' && sp !== '' && sp.toLowerCase() !== 'msi') return null;
    requested = { type: 'SystemAssigned' };
  }
  const out: Record<string, unknown> = { ...requested };
  const type = typeof requested.type === 'string' ? requested.type.toLowerCase() : '';
  if (type === 'systemassigned') {
    out.principalId = previous?.principalId ?? crypto.randomUUID();
    out.tenantId = ctx.tenantId;
  } else {
    delete out.principalId;
    delete out.tenantId;
  }
  const uami = requested.userAssignedIdentities;
  if (uami && typeof uami === 'object' && !Array.isArray(uami)) {
    out.userAssignedIdentities = Object.fromEntries(
      Object.keys(uami).map((id) => [id, { principalId: stableGuid(`principal:${id.toLowerCase()}`), clientId: stableGuid(`client:${id.toLowerCase()}`) }]),
    );
  }
  return out;
}

/** What a managed cluster's GET is built from: its stored user-settable properties and the facts AKS derives fields from. */
export interface ClusterFacts {
  subscriptionId: string;
  name: string;
  nodeResourceGroup: string;
  identity: Record<string, unknown> | null;
  /** The properties the cluster stores as the user set them. */
  properties: Record<string, unknown>;
  /** Whether any pool has the cluster autoscaler enabled. */
  autoscaled: boolean;
  /** The cluster's `sku` as stored: an Automatic cluster reports Automatic's defaults. */
  sku?: Record<string, unknown>;
}

/** `sku.name` of an AKS Automatic cluster (ManagedClusterSKUName; ARM enum values compare case-insensitively). */
export const AUTOMATIC_SKU_NAME = 'Automatic';

export function isAutomaticSku(sku: { name?: unknown } | null | undefined): boolean {
  return typeof sku?.name === 'string' && sku.name.toLowerCase() === AUTOMATIC_SKU_NAME.toLowerCase();
}

/**
 * What an Automatic cluster reports where its request left a profile out, on top of CLUSTER_PROFILE_DEFAULTS (aka.ms/aks/automatic):
 * node auto-provisioning with its default node pools, the stable auto-upgrade channel. Local accounts and Entra/Azure RBAC, which
 * AKS also turns on, are not defaulted: this installation would then refuse the static kubeconfigs it hands out.
 */
const AUTOMATIC_PROFILE_DEFAULTS: Readonly<Record<string, unknown>> = {
  nodeProvisioningProfile: { mode: 'Auto', defaultNodePools: 'Auto' },
  autoUpgradeProfile: { upgradeChannel: 'stable', nodeOSUpgradeChannel: 'NodeImage' },
};

/** The network an Automatic cluster reports where its request left it out: Azure CNI overlay with the Cilium dataplane, managed NAT gateway outbound (as az sends). */
export const AUTOMATIC_NETWORK_PROFILE: Readonly<Record<string, unknown>> = {
  networkPlugin: 'azure',
  networkPluginMode: 'overlay',
  networkDataplane: 'cilium',
  networkPolicy: 'cilium',
  outboundType: 'managedNATGateway',
};

/** The cluster autoscaler's settings AKS reports when a pool autoscales and the user set none. */
export const AUTOSCALER_PROFILE_DEFAULTS: Readonly<Record<string, string | boolean>> = {
  'balance-similar-node-groups': 'false',
  'daemonset-eviction-for-empty-nodes': false,
  'daemonset-eviction-for-occupied-nodes': true,
  expander: 'random',
  'ignore-daemonsets-utilization': false,
  'max-empty-bulk-delete': '10',
  'max-graceful-termination-sec': '600',
  'max-node-provision-time': '15m',
  'max-total-unready-percentage': '45',
  'new-pod-scale-up-delay': '0s',
  'ok-total-unready-count': '3',
  'scale-down-delay-after-add': '10m',
  'scale-down-delay-after-delete': '10s',
  'scale-down-delay-after-failure': '3m',
  'scale-down-unneeded-time': '10m',
  'scale-down-unready-time': '20m',
  'scale-down-utilization-threshold': '0.5',
  'scan-interval': '10s',
  'skip-nodes-with-local-storage': 'false',
  'skip-nodes-with-system-pods': 'true',
};

/** Profiles AKS fills in on every cluster whose request left them out (the 2026-10-01 spec's defaults and AKS's answers). */
const CLUSTER_PROFILE_DEFAULTS: Readonly<Record<string, unknown>> = {
  autoUpgradeProfile: { upgradeChannel: 'none', nodeOSUpgradeChannel: 'NodeImage' },
  disableLocalAccounts: false,
  oidcIssuerProfile: { enabled: false },
  securityProfile: {},
  storageProfile: { diskCSIDriver: { enabled: true }, fileCSIDriver: { enabled: true }, snapshotController: { enabled: true } },
  workloadAutoScalerProfile: {},
  metricsProfile: { costAnalysis: { enabled: false } },
  bootstrapProfile: { artifactSource: 'Direct' },
  nodeProvisioningProfile: { mode: 'Manual', defaultNodePools: 'Auto' },
};

/**
 * A managed cluster's properties with what AKS fills in on top of what the user set (clients read these: `az aks
 * update` stops without `identityProfile.kubeletidentity` on a managed-identity cluster):
 * - the profiles AKS defaults when left out (CLUSTER_PROFILE_DEFAULTS), and the autoscaler's settings when a
 *   pool autoscales;
 * - on a managed-identity cluster, `servicePrincipalProfile.clientId` `msi` and the kubelet identity AKS makes
 *   in the node resource group (`{cluster}-agentpool`), or the ids of the one the user named.
 */
export function managedClusterServerProperties(f: ClusterFacts): Record<string, unknown> {
  const out: Record<string, unknown> = { ...CLUSTER_PROFILE_DEFAULTS, ...(isAutomaticSku(f.sku) ? AUTOMATIC_PROFILE_DEFAULTS : {}), ...f.properties };
  if (f.autoscaled) out.autoScalerProfile = { ...AUTOSCALER_PROFILE_DEFAULTS, ...((f.properties.autoScalerProfile as object | undefined) ?? {}) };
  if (isManagedIdentity(f.identity)) {
    out.servicePrincipalProfile = { clientId: 'msi' };
    const profile = (f.properties.identityProfile ?? {}) as Record<string, Record<string, unknown> | undefined>;
    const resourceId =
      typeof profile.kubeletidentity?.resourceId === 'string'
        ? profile.kubeletidentity.resourceId
        : `/subscriptions/${f.subscriptionId}/resourcegroups/${f.nodeResourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${f.name}-agentpool`;
    out.identityProfile = {
      ...profile,
      kubeletidentity: {
        resourceId,
        clientId: stableGuid(`client:${resourceId.toLowerCase()}`),
        objectId: stableGuid(`principal:${resourceId.toLowerCase()}`),
      },
    };
  }
  return out;
}

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
    // A write-only secret never comes back on GET: what-if cannot tell it changed, so it is no change (a template
    // that passes the service principal's secret on every deployment would otherwise never be NoChange).
    ...Object.entries(CLUSTER_SECRETS).flatMap(([profile, keys]) => keys.map((k) => `properties.${profile}.${k}`)),
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
