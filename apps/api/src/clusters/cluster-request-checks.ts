import { ArmError, assertAgentPoolName, ResourceTypes } from '@cerulean/arm';
import { isAutomaticSku, KubernetesVersionCatalog, Location, LocationCatalog } from '@cerulean/catalog';
import { AgentPoolEntity, AgentPoolMode } from '@cerulean/domain';
import { AgentPoolSettings, automaticSystemPool, automaticVmSize, catalogVmSize, resolveAgentPoolSettings } from './agent-pool-settings';
import { AgentPoolPropertiesDto } from './dto/agent-pool-properties.dto';
import { ManagedClusterBodyDto } from './dto/managed-cluster.dto';
import { asRecord, checkNetworkProfile } from './network-profile-checks';
import { checkClusterResourceIds } from './resource-id-checks';

/*
 * The provider checks of a managed cluster or agent pool PUT that read the request and the catalogs only (location,
 * Kubernetes version, VM size, OS, zones, autoscaler bounds, a system pool): the PUT runs them, and so do template
 * validation and what-if (ARM's preflight), so a template is refused before it deploys for exactly what its PUT
 * would be refused for.
 */

const versions = new KubernetesVersionCatalog();
const locations = new LocationCatalog();

/** The catalog location of a cluster request, or AKS's 400 naming the available ones. */
export function clusterLocation(requested: string): Location {
  const location = locations.find(requested);
  if (location) return location;
  throw ArmError.badRequest(
    'LocationNotAvailableForResourceType',
    `The provided location '${requested}' is not available for resource type '${ResourceTypes.managedClusters}'. ` +
      `List of available regions for the resource type is '${locations
        .list()
        .map((l) => l.name)
        .join(',')}'.`,
    'location',
  );
}

/** The Kubernetes version a request asks for: the default when left out or empty, else a version of the catalog. */
export function requestedKubernetesVersion(requested: string | undefined): string {
  if (requested === undefined || requested.trim() === '') return versions.defaultVersion();
  if (!versions.resolve(requested)) {
    throw ArmError.invalidParameter(
      'properties.kubernetesVersion',
      `Version ${requested} is not supported in this region. Please use [az aks get-versions] command to get the supported version list in this region. Supported versions: ${versions.allPatches().join(', ')}.`,
    );
  }
  return requested.trim();
}

/** What a new cluster's request resolves to. */
export interface NewClusterRequest {
  location: Location;
  kubernetesVersion: string;
  pools: { name: string; settings: AgentPoolSettings }[];
}

const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * What AKS refuses on a cluster of sku Automatic, for a create or a change that leaves the cluster Automatic: a cluster without a
 * managed identity, node provisioning other than Auto, a pool with the cluster autoscaler (node auto-provisioning and the
 * autoscaler exclude each other: the 2026-10-01 spec's NodeProvisioningMode "Auto"), SSH keys (the managed system pool takes none:
 * az refuses --ssh-key-value with --sku automatic), and a network plugin other than Azure CNI.
 * `identity` is the identity the cluster will have (null: a service principal cluster); `pools` the pools it will have, each with
 * its property path in the request.
 */
export function checkAutomaticCluster(
  body: ManagedClusterBodyDto,
  identity: Record<string, unknown> | null | undefined,
  pools: { name: string; enableAutoScaling?: boolean; target: string }[],
): void {
  const props = body.properties as ManagedClusterBodyDto['properties'] & Record<string, unknown>;
  const identityType = isString(identity?.type) ? identity.type.toLowerCase() : 'none';
  const sp = asRecord(props.servicePrincipalProfile)?.clientId;
  const usesServicePrincipal = isString(sp) && sp !== '' && sp.toLowerCase() !== 'msi';
  if (!['systemassigned', 'userassigned'].includes(identityType) || usesServicePrincipal) {
    throw ArmError.invalidParameter(
      'identity',
      "A managed cluster with sku 'Automatic' requires a managed identity: set identity.type to 'SystemAssigned' or 'UserAssigned' and no service principal.",
    );
  }
  const mode = asRecord(props.nodeProvisioningProfile)?.mode;
  if (mode !== undefined && (!isString(mode) || mode.toLowerCase() !== 'auto')) {
    throw ArmError.invalidParameter(
      'properties.nodeProvisioningProfile.mode',
      `A managed cluster with sku 'Automatic' requires node auto-provisioning; nodeProvisioningProfile.mode must be 'Auto', not '${String(mode)}'.`,
    );
  }
  for (const pool of pools) checkAutomaticPool(pool);
  const keys = asRecord(asRecord(asRecord(props.linuxProfile)?.ssh))?.publicKeys;
  if (Array.isArray(keys) && keys.length > 0) {
    throw ArmError.invalidParameter(
      'properties.linuxProfile.ssh.publicKeys',
      "SSH key configuration is not supported for a managed cluster with sku 'Automatic': its managed system node pool takes no SSH keys.",
    );
  }
  const plugin = asRecord(props.networkProfile)?.networkPlugin;
  if (plugin !== undefined && (!isString(plugin) || plugin.toLowerCase() !== 'azure')) {
    throw ArmError.invalidParameter(
      'properties.networkProfile.networkPlugin',
      `A managed cluster with sku 'Automatic' requires networkPlugin 'azure' (Azure CNI overlay with the Cilium dataplane), not '${String(plugin)}'.`,
    );
  }
}

/** A pool of an Automatic cluster (in the cluster PUT or through agentPools) is fixed size: node auto-provisioning excludes the autoscaler. */
export function checkAutomaticPool(pool: { name: string; enableAutoScaling?: boolean; target: string }): void {
  if (!pool.enableAutoScaling) return;
  throw ArmError.invalidParameter(
    `${pool.target}.enableAutoScaling`,
    `Agent pool '${pool.name}' cannot enable the cluster autoscaler: a managed cluster with sku 'Automatic' uses node auto-provisioning (nodeProvisioningProfile.mode 'Auto'), and node pools there must be fixed size.`,
  );
}

/** Every request check of a cluster create: location, version, each pool, one system pool at least; an Automatic cluster's rules. */
export function checkNewCluster(body: ManagedClusterBodyDto): NewClusterRequest {
  const location = clusterLocation(body.location);
  const kubernetesVersion = requestedKubernetesVersion(body.properties.kubernetesVersion);
  checkNetworkProfile((body.properties as Record<string, unknown>).networkProfile);
  checkClusterResourceIds(body);
  const automatic = isAutomaticSku(body.sku);
  let profiles = body.properties.agentPoolProfiles ?? [];
  if (automatic) {
    // Left out, the identity is system-assigned (AKS's default; a service principal the check finds in the properties).
    const pools = profiles.map((p, i) => ({ name: p.name, enableAutoScaling: p.enableAutoScaling, target: `properties.agentPoolProfiles[${i}]` }));
    checkAutomaticCluster(body, body.identity ?? { type: 'SystemAssigned' }, pools);
    // AKS gives an Automatic cluster created without pools its system pool.
    if (profiles.length === 0) profiles = [automaticSystemPool()];
  }
  if (profiles.length === 0) throw ArmError.invalidParameter('properties.agentPoolProfiles', 'Must define at least one system pool.');
  const defaultVmSize = automatic ? automaticVmSize() : undefined;
  const seen = new Set<string>();
  const pools = profiles.map((p, i) => {
    const target = `properties.agentPoolProfiles[${i}]`;
    assertAgentPoolName(p.name, `${target}.name`);
    if (seen.has(p.name.toLowerCase())) throw ArmError.invalidParameter(`${target}.name`, `Agent pool name '${p.name}' is used more than once.`);
    seen.add(p.name.toLowerCase());
    return {
      name: p.name,
      settings: resolveAgentPoolSettings(p, { target, location, clusterVersion: kubernetesVersion, defaultMode: AgentPoolMode.System, defaultVmSize }),
    };
  });
  if (!pools.some((p) => p.settings.mode === AgentPoolMode.System)) {
    throw ArmError.invalidParameter('properties.agentPoolProfiles', 'Must define at least one system pool.');
  }
  return { location, kubernetesVersion, pools };
}

/** The catalog checks of a request that changes an existing cluster: its location, the version and VM sizes it names, its network's syntax. */
export function checkClusterChange(body: ManagedClusterBodyDto): void {
  clusterLocation(body.location);
  if (body.properties.kubernetesVersion) requestedKubernetesVersion(body.properties.kubernetesVersion);
  checkNetworkProfile((body.properties as Record<string, unknown>).networkProfile);
  checkClusterResourceIds(body);
  (body.properties.agentPoolProfiles ?? []).forEach((p, i) => {
    if (p.vmSize) catalogVmSize(p.vmSize, `properties.agentPoolProfiles[${i}].vmSize`);
  });
}

/** The cluster a pool request is checked against: as it exists, or as the same template declares it. */
export interface PoolParent {
  location: string;
  kubernetesVersion: string;
  pools: AgentPoolEntity[];
  sku?: { name?: unknown } | null;
}

/** The request checks of an agent pool PUT against its cluster (the pool as it exists, if it does). */
export function checkPoolRequest(props: AgentPoolPropertiesDto, parent: PoolParent, poolName: string): AgentPoolSettings {
  const location = clusterLocation(parent.location);
  const existing = parent.pools.find((p) => p.nameKey === poolName.toLowerCase());
  const settings = resolveAgentPoolSettings(props, {
    target: 'properties',
    location,
    clusterVersion: parent.kubernetesVersion,
    defaultMode: AgentPoolMode.User,
    existing,
  });
  if (isAutomaticSku(parent.sku)) checkAutomaticPool({ name: poolName, enableAutoScaling: settings.enableAutoScaling, target: 'properties' });
  return settings;
}
