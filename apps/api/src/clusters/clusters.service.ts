import { createHash } from 'node:crypto';
import {
  ArmError,
  assertAgentPoolName,
  assertClusterName,
  assertResourceGroupName,
  checkPreconditions,
  createdSystemData,
  managedClusterId,
  modifiedSystemData,
  newEtag,
  parseTags,
  ResourceTypes,
} from '@cerulean/arm';
import {
  CLUSTER_MODELLED,
  CLUSTER_READ_ONLY,
  CLUSTER_SECRETS,
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
  ClusterCredentialRepository,
  EntityColumns,
  ManagedClusterEntity,
  OperationEntity,
  OperationKind,
  OperationRepository,
  OperationStatus,
  PowerStateCode,
  ProvisioningState,
  ResourceGroupEntity,
  clusterLockKey,
  operationNotAllowed,
} from '@cerulean/domain';
import { OperationQueue } from '@cerulean/queue-contracts';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager, QueryFailedError } from 'typeorm';
import { newAgentPool, resolveAgentPoolSettings } from '../agent-pools/agent-pool-settings';
import { ArmCall } from '../common/arm-request';
import { ResourceGroupsService, resourceGroupBeingDeleted } from '../resource-groups/resource-groups.service';
import { ManagedClusterBodyDto } from './dto/managed-cluster.dto';
import { checkNewCluster, clusterLocation, requestedKubernetesVersion } from './cluster-request-checks';
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

const UNIQUE_VIOLATION = '23505';

export interface ClusterWithPools {
  rg: ResourceGroupEntity;
  cluster: ManagedClusterEntity;
  pools: AgentPoolEntity[];
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
    private readonly operations: OperationRepository,
    private readonly queue: OperationQueue,
    private readonly credentials: ClusterCredentialRepository,
    env: Env,
  ) {
    this.newPoolNodeImage = new NodeImageCatalog().forNewPools(env.NEW_POOL_NODE_IMAGE_VERSION).version;
    this.tenantId = env.TENANT_ID;
    const rg = new EntityColumns(db.connection, ResourceGroupEntity, 'rg');
    const cluster = new EntityColumns(db.connection, ManagedClusterEntity, 'c');
    const pool = new EntityColumns(db.connection, AgentPoolEntity, 'p');
    const sql =
      `SELECT ${rg.select}, ${cluster.select}, ${pool.select} FROM resource_groups rg ` +
      `LEFT JOIN managed_clusters c ON c.resource_group_id = rg.id AND c.name_key = $3 ` +
      `LEFT JOIN agent_pools p ON p.cluster_id = c.id ` +
      `WHERE rg.subscription_id = $1 AND rg.name_key = $2 ORDER BY p.created_at ASC`;
    this.readQuery = { rg, cluster, pool, sql };
  }

  /** Group, cluster and pools in one query (the select lists come from the entities), built once. */
  private readonly readQuery: {
    rg: EntityColumns<ResourceGroupEntity>;
    cluster: EntityColumns<ManagedClusterEntity>;
    pool: EntityColumns<AgentPoolEntity>;
    sql: string;
  };

  /** The node image version a new agent pool starts on. */
  readonly newPoolNodeImage: string;

  /** The tenant a cluster's system-assigned identity belongs to: the installation's. */
  private readonly tenantId: string;

  async find(sub: string, rgName: string, name: string, tx: EntityManager = this.db, lock = false): Promise<ClusterWithPools | undefined> {
    assertResourceGroupName(rgName);
    assertClusterName(name);
    if (!lock) return this.read(sub, rgName, name, tx);
    return this.findInGroup(await this.groups.get(sub, rgName, tx), name, tx, lock);
  }

  /** The hot read path (every GET of a cluster or a pool): group, cluster and pools in one round trip. */
  private async read(sub: string, rgName: string, name: string, tx: EntityManager): Promise<ClusterWithPools | undefined> {
    const cols = this.readQuery;
    const rows = (await tx.query(cols.sql, [sub.toLowerCase(), rgName.toLowerCase(), name.toLowerCase()])) as Record<string, unknown>[];
    const rg = rows[0] ? cols.rg.hydrate(rows[0]) : undefined;
    if (!rg) return this.findInGroup(await this.groups.get(sub, rgName, tx), name, tx, false); // the group's own error (or a race)
    const cluster = cols.cluster.hydrate(rows[0]);
    if (!cluster) return undefined;
    const pools = rows.map((row) => cols.pool.hydrate(row)).filter((p): p is AgentPoolEntity => p !== undefined);
    return { rg, cluster, pools };
  }

  private async findInGroup(rg: ResourceGroupEntity, name: string, tx: EntityManager, lock: boolean): Promise<ClusterWithPools | undefined> {
    const cluster = await tx.findOne(ManagedClusterEntity, {
      where: { resourceGroupId: rg.id, nameKey: name.toLowerCase() },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (!cluster) return undefined;
    const pools = await tx.find(AgentPoolEntity, { where: { clusterId: cluster.id }, order: { createdAt: 'ASC' } });
    return { rg, cluster, pools };
  }

  async get(sub: string, rgName: string, name: string, tx: EntityManager = this.db, lock = false): Promise<ClusterWithPools> {
    const found = await this.find(sub, rgName, name, tx, lock);
    if (!found) throw ArmError.resourceNotFound(ResourceTypes.managedClusters, name, rgName);
    return found;
  }

  async list(sub: string, rgName: string | undefined, offset: number, limit: number): Promise<ClusterWithPools[]> {
    const qb = this.db
      .createQueryBuilder(ManagedClusterEntity, 'c')
      .where('c.subscription_id = :sub', { sub: sub.toLowerCase() })
      .orderBy('c.name_key', 'ASC')
      .addOrderBy('c.id', 'ASC')
      .skip(offset)
      .take(limit);
    let rgs: ResourceGroupEntity[];
    if (rgName !== undefined) {
      const rg = await this.groups.get(sub, rgName);
      qb.andWhere('c.resource_group_id = :rg', { rg: rg.id });
      rgs = [rg];
    } else {
      rgs = await this.db.find(ResourceGroupEntity, { where: { subscriptionId: sub.toLowerCase() } });
    }
    const clusters = await qb.getMany();
    if (clusters.length === 0) return [];
    const pools = await this.db
      .createQueryBuilder(AgentPoolEntity, 'p')
      .where('p.cluster_id IN (:...ids)', { ids: clusters.map((c) => c.id) })
      .orderBy('p.created_at', 'ASC')
      .getMany();
    const rgById = new Map(rgs.map((r) => [r.id, r]));
    return clusters.flatMap((cluster) => {
      const rg = rgById.get(cluster.resourceGroupId);
      return rg ? [{ rg, cluster, pools: pools.filter((p) => p.clusterId === cluster.id) }] : [];
    });
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

    let accepted: AcceptedClusterChange;
    try {
      accepted = await this.db.transaction(async (tx) => {
        const rg = await this.groups.get(sub, rgName, tx);
        if (rg.provisioningState === ProvisioningState.Deleting) throw resourceGroupBeingDeleted(rg.name);
        const existing = await this.findInGroup(rg, name, tx, true);
        checkPreconditions('PUT', existing?.cluster.etag, call);
        return existing ? this.update(tx, existing, name, body, tags, call) : this.create(tx, rg, name, normalizeLocation(body.location), body, tags, call);
      });
    } catch (err) {
      if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === UNIQUE_VIOLATION) {
        throw ArmError.conflict('Conflict', `Another request is creating managed cluster '${name}' at the same time. Retry the request.`);
      }
      throw err;
    }
    await this.queue.enqueue(accepted.operation.kind, accepted.operation.id, call.context.correlationId);
    return accepted;
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
    const cluster = tx.create(ManagedClusterEntity, {
      subscriptionId: rg.subscriptionId,
      resourceGroupId: rg.id,
      name,
      nameKey: name.toLowerCase(),
      location,
      tags,
      sku: { name: body.sku?.name ?? 'Base', tier: body.sku?.tier ?? 'Free' },
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
    await tx.save(cluster);
    // The API server host port and the first CA and certificates, with the cluster row (see apps/api/src/credentials).
    await this.credentials.provision(tx, cluster);
    const pools: AgentPoolEntity[] = [];
    for (const { name: poolName, settings } of poolSettings) {
      pools.push(await tx.save(tx.create(AgentPoolEntity, newAgentPool(cluster.id, poolName, settings, this.newPoolNodeImage, call.caller, now))));
    }
    const operation = await this.startOperation(tx, cluster, rg, OperationKind.ClusterPut, call);
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

    const operation = await this.startOperation(tx, cluster, rg, OperationKind.ClusterPut, call);
    const now = call.receivedAt;
    cluster.name = urlName; // R1.3: the casing of the last PUT
    cluster.tags = tags;
    if (body.sku) cluster.sku = { ...cluster.sku, ...body.sku };
    if (body.identity) cluster.identity = managedClusterIdentity(body.identity, cluster.identity, { tenantId: this.tenantId });
    cluster.properties = this.clusterExtras(props);
    cluster.kubernetesVersion = kubernetesVersion;
    cluster.provisioningState = upgrading ? ProvisioningState.Upgrading : ProvisioningState.Updating;
    cluster.provisioningError = null;
    cluster.etag = newEtag();
    cluster.systemData = modifiedSystemData(cluster.systemData, call.caller, now);
    await tx.save(cluster);
    for (const { pool, settings } of changes) {
      const state = poolChangeState(pool, settings);
      Object.assign(pool, settings);
      pool.provisioningState = state;
      pool.provisioningError = null;
      pool.etag = newEtag();
      pool.systemData = modifiedSystemData(pool.systemData, call.caller, now);
      await tx.save(pool);
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
      await tx.save(found.cluster);
      return found;
    });
  }

  /**
   * DELETE: 204 when there is nothing to delete; otherwise the cluster shows Deleting and an operation
   * tears it down. A running operation is canceled, as AKS lets a delete preempt other work.
   */
  async delete(sub: string, rgName: string, name: string, call: ArmCall): Promise<OperationEntity | undefined> {
    const op = await this.db.transaction(async (tx) => {
      const found = await this.find(sub, rgName, name, tx, true);
      if (!found) return undefined;
      const { rg, cluster } = found;
      checkPreconditions('DELETE', cluster.etag, call);
      const running = await this.operations.findInProgress(tx, clusterLockKey(cluster.id));
      if (running?.kind === OperationKind.ClusterDelete) return running; // R14.2: same operation again
      if (running) {
        await this.operations.finish(tx, running.id, OperationStatus.Canceled, {
          code: 'OperationCanceled',
          message: `The operation was canceled because managed cluster '${cluster.name}' is being deleted.`,
        });
      }
      cluster.provisioningState = ProvisioningState.Deleting;
      cluster.etag = newEtag();
      await tx.save(cluster);
      await tx.update(AgentPoolEntity, { clusterId: cluster.id }, { provisioningState: ProvisioningState.Deleting });
      return this.startOperation(tx, cluster, rg, OperationKind.ClusterDelete, call);
    });
    if (op && op.status === OperationStatus.InProgress) await this.queue.enqueue(op.kind, op.id, call.context.correlationId);
    return op;
  }

  /**
   * Inserts the cluster's InProgress operation; a running one (cluster or pool) means 409 (R12.1). An
   * operation that must not hold the cluster's lock (an abort) passes its own `lock` and 409 message.
   */
  startOperation(
    tx: EntityManager,
    cluster: ManagedClusterEntity,
    rg: ResourceGroupEntity,
    kind: OperationKind,
    call: ArmCall,
    pool?: AgentPoolEntity,
    lock?: { key: string; targetOperationId?: string; describe: (running: OperationEntity) => ArmError },
  ): Promise<OperationEntity> {
    const resourceId = managedClusterId(cluster.subscriptionId, rg.name, cluster.name) + (pool ? `/agentPools/${pool.name}` : '');
    return this.operations.start(
      tx,
      {
        subscriptionId: cluster.subscriptionId,
        location: cluster.location,
        kind,
        resourceId,
        resourceGroupId: rg.id,
        clusterId: cluster.id,
        agentPoolId: pool?.id,
        lockKey: lock?.key ?? clusterLockKey(cluster.id),
        targetOperationId: lock?.targetOperationId,
        apiVersion: call.apiVersion,
        correlationId: call.context.correlationId,
        createdBy: call.caller.id,
        startTime: call.receivedAt,
      },
      lock?.describe ??
        ((running) =>
          running.agentPoolId && running.agentPoolId !== pool?.id
            ? operationNotAllowed(running, 'agent pool', running.resourceId.split('/').pop() ?? '')
            : operationNotAllowed(running, pool ? 'agent pool' : 'managed cluster', pool ? pool.name : cluster.name)),
    );
  }

  private clusterExtras(props: object): Record<string, unknown> {
    const entries = Object.entries(props).filter(([k, v]) => !NOT_EXTRA.has(k) && v !== undefined);
    return stripSecrets(Object.fromEntries(entries));
  }
}

/** The provisioningState a pool shows while a change runs (AKS's words). */
export function poolChangeState(pool: AgentPoolEntity, next: { count: number; orchestratorVersion: string; powerState: string }): ProvisioningState {
  if (next.powerState !== pool.powerState) return next.powerState === PowerStateCode.Stopped ? ProvisioningState.Stopping : ProvisioningState.Starting;
  if (versions.resolve(next.orchestratorVersion) !== poolPatch(pool)) return ProvisioningState.Upgrading;
  if (next.count !== pool.count) return ProvisioningState.Scaling;
  return ProvisioningState.Updating;
}

/** AKS refuses scale and upgrade while the cluster is stopped. */
export function stoppedClusterRefuses(clusterName: string, what: string): ArmError {
  return ArmError.badRequest(
    'OperationNotAllowed',
    `Unable to perform '${what}' operation since managed cluster '${clusterName}' is stopped. Start the cluster first.`,
  );
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

/** As `az aks create` derives it: `{name[:10]}-{rg[:16]}-{sub[:6]}`, letters/digits/hyphens only. */
export function defaultDnsPrefix(cluster: string, rg: string, sub: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9-]/g, '');
  let prefix = `${clean(cluster).slice(0, 10)}-${clean(rg).slice(0, 16)}-${sub.slice(0, 6)}`.replace(/--+/g, '-');
  if (!/^[A-Za-z]/.test(prefix)) prefix = `a${prefix}`;
  return prefix.replace(/-+$/, '').slice(0, 54);
}
