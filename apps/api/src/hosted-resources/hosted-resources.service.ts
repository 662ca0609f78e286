import { ArmError, ResourceTypes } from '@cerulean/arm';
import { AgentPoolRepository, ClusterRepository, OperationEntity, ResourceGroupRepository } from '@cerulean/domain';
import { Injectable, Type } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { AgentPoolsService } from '../agent-pools/agent-pools.service';
import { AgentPoolBodyDto } from '../clusters/dto/agent-pool-properties.dto';
import { toAgentPool, toManagedCluster } from '../clusters/cluster.mapper';
import { ClustersService } from '../clusters/clusters.service';
import { checkClusterChange, checkNewCluster, checkPoolRequest, requestedKubernetesVersion } from '../clusters/cluster-request-checks';
import { ManagedClusterBodyDto } from '../clusters/dto/managed-cluster.dto';
import { ArmCall } from '../common/arm-request';
import { armValidationPipe } from '../common/validation';
import { ResourceGroupsService } from '../resource-groups/resource-groups.service';

/** Resource types this platform hosts (template deployments reject the others with NoRegisteredProviderFound). */
export const HOSTED_TYPES: readonly string[] = [ResourceTypes.managedClusters, ResourceTypes.agentPools, ResourceTypes.resourceGroups];

export const isHostedType = (type: string): boolean => HOSTED_TYPES.some((t) => t.toLowerCase() === type.toLowerCase());

/** A resource as GET returns it (plain JSON). */
export type LiveResource = Record<string, unknown>;

export interface AcceptedWrite {
  /** The cluster / agent pool operation the write started. */
  operation: OperationEntity;
  created: boolean;
}

/**
 * PUT / DELETE / GET of hosted resources by type and name, through exactly the code the resource controllers use
 * (same body validation pipe, same services): validate and what-if of template deployments use it.
 */
@Injectable()
export class HostedResources {
  private readonly pipe = armValidationPipe();

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly groups: ResourceGroupsService,
    private readonly clusters: ClustersService,
    private readonly pools: AgentPoolsService,
    private readonly clusterRows: ClusterRepository,
    private readonly poolRows: AgentPoolRepository,
    private readonly groupRows: ResourceGroupRepository,
  ) {}

  /** `name` is the full name (`cluster` or `cluster/pool`); body is the resource's PUT body. */
  async put(sub: string, rgName: string, type: string, name: string, body: object, call: ArmCall): Promise<AcceptedWrite> {
    const t = type.toLowerCase();
    if (t === ResourceTypes.managedClusters.toLowerCase()) {
      const dto = await this.validate(ManagedClusterBodyDto, body);
      const r = await this.clusters.createOrUpdate(sub, rgName, name, dto, call);
      return { operation: r.operation, created: r.created };
    }
    if (t === ResourceTypes.agentPools.toLowerCase()) {
      const [cluster, pool] = name.split('/');
      const dto = await this.validate(AgentPoolBodyDto, body);
      const r = await this.pools.createOrUpdate(sub, rgName, cluster ?? '', pool ?? '', dto, call);
      return { operation: r.operation, created: r.created };
    }
    throw noRegisteredProvider(type);
  }

  /**
   * The checks of a PUT without the write (template validation's and what-if's preflight): the body's shape, then the
   * provider checks the PUT runs (clusters/cluster-request-checks.ts) against what exists. A pool whose cluster the
   * same template declares is checked against that declaration (`planned` answers a template resource's body).
   */
  async checkBody(
    sub: string,
    rgName: string,
    type: string,
    name: string,
    body: object,
    planned: (type: string, name: string) => object | undefined,
  ): Promise<void> {
    const t = type.toLowerCase();
    if (t === ResourceTypes.managedClusters.toLowerCase()) {
      const dto = await this.validate(ManagedClusterBodyDto, body);
      const found = await this.existingCluster(sub, rgName, name);
      if (!found) {
        checkNewCluster(dto);
        return;
      }
      // A change of an existing cluster: the catalog checks here; what the change may do (upgrade paths, immutable
      // pool properties) is the PUT's to judge against the state it finds when it runs.
      checkClusterChange(dto);
    } else if (t === ResourceTypes.agentPools.toLowerCase()) {
      const dto = await this.validate(AgentPoolBodyDto, body);
      const [clusterName = '', poolName = ''] = name.split('/');
      const found = await this.existingCluster(sub, rgName, clusterName);
      if (found) {
        checkPoolRequest(
          dto.properties ?? {},
          { location: found.cluster.location, kubernetesVersion: found.cluster.kubernetesVersion, pools: found.pools, sku: found.cluster.sku },
          poolName,
        );
        return;
      }
      const declared = planned(ResourceTypes.managedClusters, clusterName);
      if (!declared) return; // the PUT answers for a cluster that is nowhere
      const cluster = await this.validate(ManagedClusterBodyDto, declared);
      const parent = {
        location: cluster.location,
        kubernetesVersion: requestedKubernetesVersion(cluster.properties.kubernetesVersion),
        pools: [],
        sku: cluster.sku,
      };
      checkPoolRequest(dto.properties ?? {}, parent, poolName);
    } else {
      throw noRegisteredProvider(type);
    }
  }

  /** A cluster as it exists; undefined too when its group does not exist yet (a subscription deployment makes it first). */
  private async existingCluster(sub: string, rgName: string, name: string) {
    const group = await this.groupRows.findByName(this.db, sub, rgName);
    return group ? this.clusters.find(sub, rgName, name) : undefined;
  }

  /** DELETE; undefined when there was nothing to delete. */
  async delete(sub: string, rgName: string, type: string, name: string, call: ArmCall): Promise<OperationEntity | undefined> {
    const t = type.toLowerCase();
    if (t === ResourceTypes.managedClusters.toLowerCase()) return this.clusters.delete(sub, rgName, name, call);
    if (t === ResourceTypes.agentPools.toLowerCase()) {
      const [cluster, pool] = name.split('/');
      return this.pools.delete(sub, rgName, cluster ?? '', pool ?? '', call);
    }
    throw noRegisteredProvider(type);
  }

  /** GET of one resource (the mapper output), or undefined when it does not exist. */
  async get(sub: string, rgName: string, type: string, name: string): Promise<LiveResource | undefined> {
    const t = type.toLowerCase();
    const [clusterName, poolName] = name.split('/');
    if (t !== ResourceTypes.managedClusters.toLowerCase() && t !== ResourceTypes.agentPools.toLowerCase()) throw noRegisteredProvider(type);
    const found = await this.clusters.find(sub, rgName, clusterName ?? '');
    if (!found) return undefined;
    if (t === ResourceTypes.managedClusters.toLowerCase()) return toManagedCluster(found.cluster, found.rg.name, found.pools);
    const pool = found.pools.find((p) => p.nameKey === (poolName ?? '').toLowerCase());
    return pool ? toAgentPool(found.cluster, found.rg.name, pool) : undefined;
  }

  /** Every cluster in the group, and its agent pools, by resource id (GET shapes). */
  async liveInGroup(sub: string, rgName: string): Promise<{ clusters: Record<string, LiveResource>; pools: Record<string, LiveResource> }> {
    const rg = await this.groups.get(sub, rgName);
    const clusters = await this.clusterRows.listInGroup(this.db, rg.id);
    const pools = await this.poolRows.listByClusters(
      this.db,
      clusters.map((c) => c.id),
    );
    const out = { clusters: {} as Record<string, LiveResource>, pools: {} as Record<string, LiveResource> };
    for (const c of clusters) {
      const own = pools.filter((p) => p.clusterId === c.id);
      const live = toManagedCluster(c, rg.name, own);
      out.clusters[live.id] = live;
      for (const p of own) {
        const pool = toAgentPool(c, rg.name, p);
        out.pools[pool.id] = pool;
      }
    }
    return out;
  }

  private async validate<T>(dto: Type<T>, body: object): Promise<T> {
    return (await this.pipe.transform(body, { type: 'body', metatype: dto })) as T;
  }
}

/** ARM's answer for a resource type no provider here serves. */
export function noRegisteredProvider(type: string): ArmError {
  const [namespace, ...rest] = type.split('/');
  return ArmError.badRequest(
    'NoRegisteredProviderFound',
    `No registered resource provider found for resource type '${rest.join('/')}' in namespace '${namespace}'. ` +
      `The resource types this endpoint hosts are '${HOSTED_TYPES.join("', '")}'.`,
  );
}
