import {
  ArmError,
  assertAgentPoolName,
  assertClusterName,
  assertResourceGroupName,
  checkPreconditions,
  createdSystemData,
  modifiedSystemData,
  newEtag,
  parseTags,
  ResourceTypes,
} from '@cerulean/arm';
import {
  CLUSTER_MODELLED,
  CLUSTER_READ_ONLY,
  CLUSTER_SECRETS,
  isAutomaticSku,
  KubernetesVersionCatalog,
  LocationCatalog,
  managedClusterIdentity,
  NodeImageCatalog,
  normalizeLocation,
} from '@cerulean/catalog';
import { Env } from '@cerulean/config';
import {
  AgentPoolEntity,
  AgentPoolMode,
  AgentPoolRepository,
  ClusterCredentialRepository,
  ClusterRepository,
  ClusterWithPools,
  OperationEntity,
  OperationKind,
  OperationRepository,
  OperationStatus,
  PowerStateCode,
  ProvisioningState,
  ResourceGroupEntity,
  clusterLockKey,
  isUniqueViolation,
  operationNotAllowed,
} from '@cerulean/domain';
import { OperationStarter } from '@cerulean/queue-contracts';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { ArmCall } from '../common/arm-request';
import { ResourceGroupsService, resourceGroupBeingDeleted } from '../resource-groups/resource-groups.service';
import { newAgentPool, resolveAgentPoolSettings } from './agent-pool-settings';
import { defaultDnsPrefix, poolChangeState, shortHash, stoppedClusterRefuses } from './cluster-rules';
import { ManagedClusterBodyDto } from './dto/managed-cluster.dto';
import { checkAutomaticCluster, checkNewCluster, clusterLocation, requestedKubernetesVersion } from './cluster-request-checks';
import { checkClusterResourceIds } from './resource-id-checks';
import { changedNetworkProfile } from './network-profile-checks';
import { assertPoolNotNewer, assertUpgradeAllowed, controlPlanePatch, poolPatch } from './version-rules';

const versions = new KubernetesVersionCatalog();
const locations = new LocationCatalog();

/** Never stored among the extras: read-only (R5.3), modelled in columns of their own, or write-only secrets (R5.4). */
const NOT_EXTRA = new Set<string>([...CLUSTER_READ_ONLY, ...CLUSTER_MODELLED]);

function stripSecrets(props: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...props };
  for (const [profile, secrets] of Object.entries(CLUSTER_SECRETS)) {
    const value = out[profile] as Record<string, unknown> | undefined;
    if (value && typeof value === 'object') out[profile] = Object.fromEntries(Object.entries(value).filter(([k]) => !secrets.includes(k)));
  }
  return out;
}

export interface AcceptedClusterChange extends ClusterWithPools {
  operation: OperationEntity;
  created: boolean;
}

@Injectable()
export class ClustersService {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly groups: ResourceGroupsService,
    private readonly clusters: ClusterRepository,
    private readonly pools: AgentPoolRepository,
    private readonly operations: OperationRepository,
    private readonly starter: OperationStarter,
    private readonly credentials: ClusterCredentialRepository,
    env: Env,
  ) {
    this.newPoolNodeImage = new NodeImageCatalog().forNewPools(env.NEW_POOL_NODE_IMAGE_VERSION).version;
    this.tenantId = env.TENANT_ID;
  }

  /** The node image version a new agent pool starts on. */
  readonly newPoolNodeImage: string;

  /** The tenant a cluster's system-assigned identity belongs to: the installation's. */
  private readonly tenantId: string;

  async find(sub: string, rgName: string, name: string, tx: EntityManager = this.db, lock = false): Promise<ClusterWithPools | undefined> {
    assertResourceGroupName(rgName);
    assertClusterName(name);
    if (lock) return this.clusters.findInGroup(tx, await this.groups.get(sub, rgName, tx), name, true);
    // The hot read path (every GET of a cluster or a pool) is one round trip.
    const read = await this.clusters.readByName(tx, sub, rgName, name);
    if (read.rg) return read.found;
    return this.clusters.findInGroup(tx, await this.groups.get(sub, rgName, tx), name); // the group's own error (or a race)
  }

  async get(sub: string, rgName: string, name: string, tx: EntityManager = this.db, lock = false): Promise<ClusterWithPools> {
    const found = await this.find(sub, rgName, name, tx, lock);
    if (!found) throw ArmError.resourceNotFound(ResourceTypes.managedClusters, name, rgName);
    return found;
  }

  async list(sub: string, rgName: string | undefined, offset: number, limit: number): Promise<ClusterWithPools[]> {
    const rg = rgName === undefined ? undefined : await this.groups.get(sub, rgName);
    return this.clusters.page(this.db, sub, rg, offset, limit);
  }

  /**
   * PUT: stores the desired cluster and its pools and an InProgress operation in one transaction, then
   * enqueues the operation. The worker converges Docker to it.
   */
  async createOrUpdate(sub: string, rgName: string, name: string, body: ManagedClusterBodyDto, call: ArmCall): Promise<AcceptedClusterChange> {
    assertResourceGroupName(rgName);
    assertClusterName(name);
    clusterLocation(body.location);
    const tags = parseTags(body.tags);

    try {
      return await this.starter.run(async (tx) => {
        const rg = await this.groups.get(sub, rgName, tx);
        if (rg.provisioningState === ProvisioningState.Deleting) throw resourceGroupBeingDeleted(rg.name);
        const existing = await this.clusters.findInGroup(tx, rg, name, true);
        checkPreconditions('PUT', existing?.cluster.etag, call);
        return existing ? this.update(tx, existing, name, body, tags, call) : this.create(tx, rg, name, normalizeLocation(body.location), body, tags, call);
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw ArmError.conflict('Conflict', `Another request is creating managed cluster '${name}' at the same time. Retry the request.`);
      }
      throw err;
    }
  }

  private async create(
    tx: EntityManager,
    rg: ResourceGroupEntity,
    name: string,
    location: string,
    body: ManagedClusterBodyDto,
    tags: Record<string, string>,
    call: ArmCall,
  ): Promise<AcceptedClusterChange> {
    const props = body.properties;
    if (props.provisioningState !== undefined && props.provisioningState !== ProvisioningState.Succeeded) {
      throw ArmError.invalidParameter('properties.provisioningState', `provisioningState is read-only; '${props.provisioningState}' cannot be set.`);
    }
    const { kubernetesVersion, pools: poolSettings } = checkNewCluster(body);

    const dnsPrefix = props.dnsPrefix ?? defaultDnsPrefix(name, rg.name, rg.subscriptionId);
    const now = call.receivedAt;
    const cluster = await this.clusters.create(tx, {
      subscriptionId: rg.subscriptionId,
      resourceGroupId: rg.id,
      name,
      nameKey: name.toLowerCase(),
      location,
      tags,
      // An Automatic cluster's tier is Standard unless the request names one (as az sets it for --sku automatic).
      sku: { name: body.sku?.name ?? 'Base', tier: body.sku?.tier ?? (isAutomaticSku(body.sku) ? 'Standard' : 'Free') },
      identity: managedClusterIdentity(body.identity, null, { tenantId: this.tenantId, servicePrincipalClientId: props.servicePrincipalProfile?.clientId }),
      kind: body.kind ?? null,
      properties: this.clusterExtras(props),
      kubernetesVersion,
      currentKubernetesVersion: null,
      dnsPrefix,
      fqdn: `${dnsPrefix.toLowerCase()}-${shortHash(`${rg.subscriptionId}/${rg.nameKey}/${name.toLowerCase()}`)}.hcp.${location}.cerulean.localhost`,
      nodeResourceGroup: props.nodeResourceGroup ?? `MC_${rg.name}_${name}_${location}`.slice(0, 80),
      apiServerPort: null,
      provisioningState: ProvisioningState.Creating,
      powerState: PowerStateCode.Running,
      etag: newEtag(),
      systemData: createdSystemData(call.caller, now),
      provisioningError: null,
    });
    // The API server host port and the first CA and certificates, with the cluster row (see apps/api/src/credentials).
    await this.credentials.provision(tx, cluster);
    const pools: AgentPoolEntity[] = [];
    for (const { name: poolName, settings } of poolSettings) {
      pools.push(await this.pools.create(tx, newAgentPool(cluster.id, poolName, settings, this.newPoolNodeImage, call.caller, now)));
    }
    const operation = await this.starter.startOnCluster(tx, { rg, cluster }, OperationKind.ClusterPut, call);
    return { rg, cluster, pools, operation, created: true };
  }

  private async update(
    tx: EntityManager,
    existing: ClusterWithPools,
    urlName: string,
    body: ManagedClusterBodyDto,
    tags: Record<string, string>,
    call: ArmCall,
  ): Promise<AcceptedClusterChange> {
    const { rg, cluster, pools } = existing;
    const props = body.properties;
    if (normalizeLocation(body.location) !== cluster.location) {
      throw ArmError.badRequest('PropertyChangeNotAllowed', `Changing property 'location' is not allowed (it is '${cluster.location}').`, 'location');
    }
    if (props.dnsPrefix !== undefined && props.dnsPrefix !== cluster.dnsPrefix) {
      throw ArmError.badRequest('PropertyChangeNotAllowed', `Changing property 'dnsPrefix' is not allowed.`, 'properties.dnsPrefix');
    }
    if (props.nodeResourceGroup !== undefined && props.nodeResourceGroup !== cluster.nodeResourceGroup) {
      throw ArmError.badRequest('PropertyChangeNotAllowed', `Changing property 'nodeResourceGroup' is not allowed.`, 'properties.nodeResourceGroup');
    }
    const networkProfile = changedNetworkProfile(cluster.properties.networkProfile, (props as Record<string, unknown>).networkProfile);
    checkClusterResourceIds(body);
    if (props.provisioningState !== undefined && props.provisioningState !== cluster.provisioningState) {
      throw ArmError.invalidParameter(
        'properties.provisioningState',
        `provisioningState is read-only; '${props.provisioningState}' does not match '${cluster.provisioningState}'.`,
      );
    }
    if (cluster.provisioningState === ProvisioningState.Deleting) {
      throw ArmError.conflict('OperationNotAllowed', `Managed cluster '${cluster.name}' is being deleted.`);
    }
    const kubernetesVersion = props.kubernetesVersion ? requestedKubernetesVersion(props.kubernetesVersion) : cluster.kubernetesVersion;
    const currentPatch = controlPlanePatch(cluster);
    const nextPatch = versions.resolve(kubernetesVersion);
    const upgrading = !!nextPatch && currentPatch !== nextPatch;
    if (upgrading) assertUpgradeAllowed(currentPatch, nextPatch, 'properties.kubernetesVersion');
    const loc = locations.find(cluster.location);
    if (!loc) throw ArmError.internal();

    const profiles = props.agentPoolProfiles ?? [];
    const byName = new Map(pools.map((p) => [p.nameKey, p]));
    const changes: { pool: AgentPoolEntity; settings: ReturnType<typeof resolveAgentPoolSettings> }[] = [];
    profiles.forEach((p, i) => {
      const target = `properties.agentPoolProfiles[${i}]`;
      assertAgentPoolName(p.name, `${target}.name`);
      const pool = byName.get(p.name.toLowerCase());
      if (!pool) {
        // R6.7: after creation, pools are added through agentPools/{name}.
        throw ArmError.badRequest(
          'BadRequest',
          `Agent pool '${p.name}' does not exist. Adding agent pools through the managed cluster is not allowed; use the agentPools API.`,
          `${target}.name`,
        );
      }
      changes.push({
        pool,
        settings: resolveAgentPoolSettings(p, { target, location: loc, clusterVersion: kubernetesVersion, defaultMode: AgentPoolMode.System, existing: pool }),
      });
    });
    if (cluster.powerState === PowerStateCode.Stopped) {
      const scalingOrUpgrading =
        upgrading || changes.some(({ pool, settings }) => settings.count !== pool.count || settings.orchestratorVersion !== pool.orchestratorVersion);
      if (scalingOrUpgrading) throw stoppedClusterRefuses(cluster.name, upgrading ? 'upgrading' : 'scaling');
    }
    // Pools left out of the request keep their version; it must still be valid against the new control plane.
    if (upgrading && nextPatch) {
      for (const pool of pools) {
        if (changes.some((c) => c.pool.id === pool.id)) continue;
        assertPoolNotNewer(poolPatch(pool), nextPatch, 'properties.kubernetesVersion');
      }
    }
    const resultingModes = pools.map((p) => changes.find((c) => c.pool.id === p.id)?.settings ?? p);
    if (!resultingModes.some((s) => s.mode === AgentPoolMode.System && s.count >= 1)) {
      throw ArmError.invalidParameter('properties.agentPoolProfiles', 'A managed cluster must keep at least one System agent pool with at least 1 node.');
    }
    // A cluster that stays or becomes Automatic must meet Automatic's rules with the pools and identity it will have.
    if (isAutomaticSku(body.sku ? { ...cluster.sku, ...body.sku } : cluster.sku)) {
      const resulting = pools.map((p) => {
        const i = changes.findIndex((c) => c.pool.id === p.id); // changes follow the request's profiles, in order
        return {
          name: p.name,
          enableAutoScaling: (changes[i]?.settings ?? p).enableAutoScaling,
          target: i >= 0 ? `properties.agentPoolProfiles[${i}]` : 'properties.agentPoolProfiles',
        };
      });
      checkAutomaticCluster(body, body.identity ?? cluster.identity, resulting);
    }

    const operation = await this.starter.startOnCluster(tx, { rg, cluster }, OperationKind.ClusterPut, call);
    const now = call.receivedAt;
    cluster.name = urlName; // R1.3: the casing of the last PUT
    cluster.tags = tags;
    if (body.sku) cluster.sku = { ...cluster.sku, ...body.sku };
    if (body.identity) cluster.identity = managedClusterIdentity(body.identity, cluster.identity, { tenantId: this.tenantId });
    cluster.properties = { ...this.clusterExtras(props), ...(networkProfile ? { networkProfile } : {}) };
    cluster.kubernetesVersion = kubernetesVersion;
    cluster.provisioningState = upgrading ? ProvisioningState.Upgrading : ProvisioningState.Updating;
    cluster.provisioningError = null;
    cluster.etag = newEtag();
    cluster.systemData = modifiedSystemData(cluster.systemData, call.caller, now);
    await this.clusters.save(tx, cluster);
    for (const { pool, settings } of changes) {
      const state = poolChangeState(pool, settings);
      Object.assign(pool, settings);
      pool.provisioningState = state;
      pool.provisioningError = null;
      pool.etag = newEtag();
      pool.systemData = modifiedSystemData(pool.systemData, call.caller, now);
      await this.pools.save(tx, pool);
    }
    return { rg, cluster, pools, operation, created: false };
  }

  /** UpdateTags: replaces the whole tag set (R7.1); synchronous, no node work. */
  async updateTags(sub: string, rgName: string, name: string, tagsBody: unknown, call: ArmCall): Promise<ClusterWithPools> {
    return this.db.transaction(async (tx) => {
      const found = await this.get(sub, rgName, name, tx, true);
      checkPreconditions('PATCH', found.cluster.etag, call);
      const running = await this.operations.findInProgress(tx, clusterLockKey(found.cluster.id));
      if (running) throw operationNotAllowed(running, 'managed cluster', found.cluster.name);
      found.cluster.tags = parseTags(tagsBody);
      found.cluster.etag = newEtag();
      found.cluster.systemData = modifiedSystemData(found.cluster.systemData, call.caller, call.receivedAt);
      await this.clusters.save(tx, found.cluster);
      return found;
    });
  }

  /**
   * DELETE: 204 when there is nothing to delete; otherwise the cluster shows Deleting and an operation
   * tears it down. A running operation is canceled, as AKS lets a delete preempt other work.
   */
  async delete(sub: string, rgName: string, name: string, call: ArmCall): Promise<OperationEntity | undefined> {
    const { operation } = await this.starter.run(async (tx): Promise<{ operation?: OperationEntity }> => {
      const found = await this.find(sub, rgName, name, tx, true);
      if (!found) return {};
      const { rg, cluster } = found;
      checkPreconditions('DELETE', cluster.etag, call);
      const running = await this.operations.findInProgress(tx, clusterLockKey(cluster.id));
      if (running?.kind === OperationKind.ClusterDelete) return { operation: running }; // R14.2: same operation again
      if (running) {
        await this.operations.finish(tx, running.id, OperationStatus.Canceled, {
          code: 'OperationCanceled',
          message: `The operation was canceled because managed cluster '${cluster.name}' is being deleted.`,
        });
      }
      cluster.provisioningState = ProvisioningState.Deleting;
      cluster.etag = newEtag();
      await this.clusters.save(tx, cluster);
      await this.pools.setStateOfCluster(tx, cluster.id, ProvisioningState.Deleting);
      return { operation: await this.starter.startOnCluster(tx, { rg, cluster }, OperationKind.ClusterDelete, call) };
    });
    return operation;
  }

  private clusterExtras(props: object): Record<string, unknown> {
    const entries = Object.entries(props).filter(([k, v]) => !NOT_EXTRA.has(k) && v !== undefined);
    return stripSecrets(Object.fromEntries(entries));
  }
}
