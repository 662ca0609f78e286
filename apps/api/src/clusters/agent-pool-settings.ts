import { ArmError, Caller, createdSystemData, newEtag, parseTags } from '@cerulean/arm';
import { KubernetesVersionCatalog, Location, VmSizeCatalog } from '@cerulean/catalog';
import { AgentPoolEntity, AgentPoolMode, DEFAULT_MAX_SURGE, PowerStateCode, ProvisioningState, upgradeSettingsProblem } from '@cerulean/domain';
import { assertPoolNotNewer, assertUpgradeAllowed } from './version-rules';
import { checkResourceIds, POOL_PROPERTIES_MODEL } from './resource-id-checks';
import { AgentPoolPropertiesDto } from './dto/agent-pool-properties.dto';

const vmSizes = new VmSizeCatalog();
const versions = new KubernetesVersionCatalog();

/** Properties AKS computes: ignored when sent (R5.3), never stored among the pool's extra properties. */
const READ_ONLY = ['eTag', 'currentOrchestratorVersion', 'provisioningState', 'nodeImageVersion', 'status', 'virtualMachineNodesStatus'];

/** The pool fields the platform acts on, as they will be stored. */
export type AgentPoolSettings = Pick<
  AgentPoolEntity,
  | 'mode'
  | 'count'
  | 'vmSize'
  | 'osType'
  | 'osSku'
  | 'osDiskSizeGb'
  | 'maxPods'
  | 'orchestratorVersion'
  | 'availabilityZones'
  | 'enableAutoScaling'
  | 'minCount'
  | 'maxCount'
  | 'nodeLabels'
  | 'nodeTaints'
  | 'tags'
  | 'upgradeSettings'
  | 'properties'
  | 'powerState'
>;

export interface PoolContext {
  /** Property path of the pool in the request, for `target` (e.g. `properties.agentPoolProfiles[0]`). */
  target: string;
  location: Location;
  /** The control plane's version as stored (what the user asked for). */
  clusterVersion: string;
  defaultMode: AgentPoolMode;
  /** The pool as it exists, for an update. */
  existing?: AgentPoolEntity;
  /** The VM size a pool that names none gets (an Automatic cluster's pick); else AKS's Standard_DS2_v2. */
  defaultVmSize?: string;
}

function stringMap(value: Record<string, unknown> | undefined, target: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value ?? {})) {
    if (typeof v !== 'string') throw ArmError.invalidParameter(`${target}.${k}`, `The value of '${k}' must be a string.`);
    out[k] = v;
  }
  return out;
}

// Every property the DTO models (its fields are defined on construction), the profile's name, and the
// read-only ones: whatever else a request carries is kept as sent.
const MODELED = new Set([...Object.keys(new AgentPoolPropertiesDto()), 'name', ...READ_ONLY]);

function extras(dto: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(dto).filter(([k, v]) => !MODELED.has(k) && v !== undefined));
}

/** The catalog's VM size of that name, or AKS's 400 listing the sizes there are. */
export function catalogVmSize(name: string, target: string) {
  const vmSize = vmSizes.find(name);
  if (vmSize) return vmSize;
  throw ArmError.invalidParameter(
    target,
    `The VM size '${name}' is not supported. Supported sizes: ${vmSizes
      .list()
      .map((s) => s.name)
      .join(', ')}.`,
  );
}

/**
 * Validates one agent pool's requested properties against the catalogs and AKS's rules and fills AKS's
 * defaults. For an update, properties left out keep their current values.
 */
export function resolveAgentPoolSettings(dto: AgentPoolPropertiesDto, ctx: PoolContext): AgentPoolSettings {
  const { existing, target } = ctx;
  checkResourceIds(dto, POOL_PROPERTIES_MODEL, target);
  const mode = dto.mode ?? existing?.mode ?? ctx.defaultMode;
  if (mode === 'Gateway') throw ArmError.invalidParameter(`${target}.mode`, 'Gateway agent pools are not supported by this installation.');
  const count = dto.count ?? existing?.count ?? 1;
  if (mode === AgentPoolMode.System && count < 1) {
    throw ArmError.invalidParameter(`${target}.count`, `System agent pools must have at least 1 node; count is ${count}.`);
  }

  // az sends "" for "server default" (aks create, nodepool add without --node-vm-size).
  const vmSize = catalogVmSize(dto.vmSize || existing?.vmSize || ctx.defaultVmSize || 'Standard_DS2_v2', `${target}.vmSize`);
  if (existing && vmSize.name !== existing.vmSize) {
    throw ArmError.badRequest('PropertyChangeNotAllowed', `Changing property 'vmSize' is not allowed.`, `${target}.vmSize`);
  }

  const osType = dto.osType ?? existing?.osType ?? 'Linux';
  if (osType !== 'Linux') throw ArmError.invalidParameter(`${target}.osType`, `osType '${osType}' is not supported by this installation; use Linux.`);

  const orchestratorVersion = dto.orchestratorVersion || existing?.orchestratorVersion || ctx.clusterVersion;
  const poolPatch = versions.resolve(orchestratorVersion);
  if (!poolPatch) {
    throw ArmError.invalidParameter(
      `${target}.orchestratorVersion`,
      `Version ${orchestratorVersion} is not supported in this region. Supported versions: ${versions.allPatches().join(', ')}.`,
    );
  }
  const clusterPatch = versions.resolve(ctx.clusterVersion);
  if (existing) {
    const currentPatch = existing.currentOrchestratorVersion ?? versions.resolve(existing.orchestratorVersion);
    if (currentPatch) assertUpgradeAllowed(currentPatch, poolPatch, `${target}.orchestratorVersion`);
  }
  if (clusterPatch) assertPoolNotNewer(poolPatch, clusterPatch, `${target}.orchestratorVersion`);

  const zones = dto.availabilityZones ?? existing?.availabilityZones ?? [];
  for (const z of zones) {
    if (!ctx.location.zones.includes(z)) {
      throw ArmError.invalidParameter(
        `${target}.availabilityZones`,
        `Availability zone '${z}' is not available in location '${ctx.location.name}'. Available zones: ${ctx.location.zones.join(', ')}.`,
      );
    }
  }
  if (existing && dto.availabilityZones !== undefined && JSON.stringify([...zones].sort()) !== JSON.stringify([...existing.availabilityZones].sort())) {
    throw ArmError.badRequest('PropertyChangeNotAllowed', `Changing property 'availabilityZones' is not allowed.`, `${target}.availabilityZones`);
  }

  const enableAutoScaling = dto.enableAutoScaling ?? existing?.enableAutoScaling ?? false;
  const minCount = dto.minCount ?? (enableAutoScaling ? (existing?.minCount ?? null) : null);
  const maxCount = dto.maxCount ?? (enableAutoScaling ? (existing?.maxCount ?? null) : null);
  if (enableAutoScaling) {
    if (minCount === null || maxCount === null) {
      throw ArmError.invalidParameter(`${target}.minCount`, 'minCount and maxCount are required when enableAutoScaling is true.');
    }
    if (minCount > maxCount) throw ArmError.invalidParameter(`${target}.minCount`, `minCount (${minCount}) must not exceed maxCount (${maxCount}).`);
    if (count < minCount || count > maxCount) {
      throw ArmError.invalidParameter(`${target}.count`, `count (${count}) must be between minCount (${minCount}) and maxCount (${maxCount}).`);
    }
  }

  // A pool with the cluster autoscaler may be stopped, as on AKS: the autoscaler leaves a stopped pool alone and
  // the pool starts again at the count it had.
  const powerState = dto.powerState?.code ?? existing?.powerState ?? PowerStateCode.Running;
  if (powerState === PowerStateCode.Stopped) {
    if (!existing) throw ArmError.invalidParameter(`${target}.powerState`, 'A new agent pool cannot be created Stopped.');
    if (mode === AgentPoolMode.System) {
      throw ArmError.badRequest('OperationNotAllowed', 'System agent pools cannot be stopped; only User agent pools can.', `${target}.powerState`);
    }
    if (count !== existing.count) {
      throw ArmError.badRequest('OperationNotAllowed', 'Unable to scale a stopped agent pool; start it first.', `${target}.count`);
    }
  }

  const upgradeSettings = dto.upgradeSettings ?? existing?.upgradeSettings ?? { maxSurge: DEFAULT_MAX_SURGE };
  const settingsProblem = upgradeSettingsProblem(upgradeSettings);
  if (settingsProblem) throw ArmError.invalidParameter(`${target}.upgradeSettings.${settingsProblem.property}`, settingsProblem.message);

  return {
    mode,
    count,
    vmSize: vmSize.name,
    osType,
    osSku: dto.osSKU ?? existing?.osSku ?? 'Ubuntu',
    osDiskSizeGb: dto.osDiskSizeGB ?? existing?.osDiskSizeGb ?? 128,
    maxPods: dto.maxPods ?? existing?.maxPods ?? vmSize.maxPods,
    orchestratorVersion,
    availabilityZones: zones,
    enableAutoScaling,
    minCount,
    maxCount,
    nodeLabels: dto.nodeLabels !== undefined ? stringMap(dto.nodeLabels, `${target}.nodeLabels`) : (existing?.nodeLabels ?? {}),
    nodeTaints: dto.nodeTaints ?? existing?.nodeTaints ?? [],
    tags: dto.tags !== undefined ? parseTags(dto.tags, `${target}.tags`) : (existing?.tags ?? {}),
    upgradeSettings,
    properties: { ...(existing?.properties ?? {}), ...extras(dto) },
    powerState,
  };
}

/**
 * The VM size AKS Automatic gives a system pool that names none: AKS picks a 4-vCPU general-purpose size the subscription has
 * capacity for (Azure/AKS#4395, "you'll no longer need to pass the vmSize"); here the first of these that the catalog offers.
 */
const AUTOMATIC_VM_SIZES = ['Standard_D4lds_v5', 'Standard_D4ads_v5', 'Standard_D4ds_v5', 'Standard_D4d_v5', 'Standard_D4s_v5', 'Standard_DS3_v2'];

export function automaticVmSize(): string {
  const size = AUTOMATIC_VM_SIZES.map((name) => vmSizes.find(name)).find((s) => s !== undefined);
  if (!size) throw new Error('The VM size catalog offers none of the sizes an Automatic cluster picks from.');
  return size.name;
}

/**
 * The system pool an Automatic cluster created without agentPoolProfiles gets. AKS names it `systempool` (its Automatic
 * templates declare `systempool`, mode System, count 3); count is 1 here, the least a System pool may have, because every node
 * is a container on this one machine. Its VM size is the cluster's pick (automaticVmSize). It is an ordinary pool of the cluster:
 * the worker provisions it, GET lists it.
 */
export function automaticSystemPool(): AgentPoolPropertiesDto & { name: string } {
  return Object.assign(new AgentPoolPropertiesDto(), { name: 'systempool', mode: AgentPoolMode.System, count: 1, osType: 'Linux' });
}

/** The 8 digits AKS puts in VMSS names (`aks-nodepool1-12345678-vmss`). */
const newVmssSuffix = (): string => String(Math.floor(10_000_000 + Math.random() * 89_999_999));

/** A new pool's row: on the node image new pools get, with its own VMSS digits, Creating. */
export function newAgentPool(
  clusterId: string,
  name: string,
  settings: AgentPoolSettings,
  nodeImageVersion: string,
  caller: Caller,
  at: Date,
): Partial<AgentPoolEntity> {
  return {
    ...settings,
    clusterId,
    name,
    nameKey: name.toLowerCase(),
    currentOrchestratorVersion: null,
    nodeImageVersion,
    vmssSuffix: newVmssSuffix(),
    provisioningState: ProvisioningState.Creating,
    etag: newEtag(),
    systemData: createdSystemData(caller, at),
    provisioningError: null,
  };
}
