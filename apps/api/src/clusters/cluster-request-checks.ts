import { ArmError, assertAgentPoolName, ResourceTypes } from '@cerulean/arm';
import { KubernetesVersionCatalog, Location, LocationCatalog } from '@cerulean/catalog';
import { AgentPoolEntity, AgentPoolMode } from '@cerulean/domain';
import { AgentPoolSettings, catalogVmSize, resolveAgentPoolSettings } from './agent-pool-settings';
import { AgentPoolPropertiesDto } from './dto/agent-pool-properties.dto';
import { ManagedClusterBodyDto } from './dto/managed-cluster.dto';

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

/** Every request check of a cluster create: location, version, each pool, one system pool at least. */
export function checkNewCluster(body: ManagedClusterBodyDto): NewClusterRequest {
  const location = clusterLocation(body.location);
  const kubernetesVersion = requestedKubernetesVersion(body.properties.kubernetesVersion);
  const profiles = body.properties.agentPoolProfiles ?? [];
  if (profiles.length === 0) throw ArmError.invalidParameter('properties.agentPoolProfiles', 'Must define at least one system pool.');
  const seen = new Set<string>();
  const pools = profiles.map((p, i) => {
    const target = `properties.agentPoolProfiles[${i}]`;
    assertAgentPoolName(p.name, `${target}.name`);
    if (seen.has(p.name.toLowerCase())) throw ArmError.invalidParameter(`${target}.name`, `Agent pool name '${p.name}' is used more than once.`);
    seen.add(p.name.toLowerCase());
    return { name: p.name, settings: resolveAgentPoolSettings(p, { target, location, clusterVersion: kubernetesVersion, defaultMode: AgentPoolMode.System }) };
  });
  if (!pools.some((p) => p.settings.mode === AgentPoolMode.System)) {
    throw ArmError.invalidParameter('properties.agentPoolProfiles', 'Must define at least one system pool.');
  }
  return { location, kubernetesVersion, pools };
}

/** The catalog checks of a request that changes an existing cluster: its location, the version and VM sizes it names. */
export function checkClusterChange(body: ManagedClusterBodyDto): void {
  clusterLocation(body.location);
  if (body.properties.kubernetesVersion) requestedKubernetesVersion(body.properties.kubernetesVersion);
  (body.properties.agentPoolProfiles ?? []).forEach((p, i) => {
    if (p.vmSize) catalogVmSize(p.vmSize, `properties.agentPoolProfiles[${i}].vmSize`);
  });
}

/** The cluster a pool request is checked against: as it exists, or as the same template declares it. */
export interface PoolParent {
  location: string;
  kubernetesVersion: string;
  pools: AgentPoolEntity[];
}

/** The request checks of an agent pool PUT against its cluster (the pool as it exists, if it does). */
export function checkPoolRequest(props: AgentPoolPropertiesDto, parent: PoolParent, poolName: string): AgentPoolSettings {
  const location = clusterLocation(parent.location);
  const existing = parent.pools.find((p) => p.nameKey === poolName.toLowerCase());
  return resolveAgentPoolSettings(props, {
    target: 'properties',
    location,
    clusterVersion: parent.kubernetesVersion,
    defaultMode: AgentPoolMode.User,
    existing,
  });
}
