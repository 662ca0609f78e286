import { ArmError, ResourceTypes } from '@cerulean/arm';
import { AKS_RESPONSE_MODEL } from '@cerulean/catalog';
import { AgentPoolRepository, ClusterRepository, MaintenanceConfigurationEntity, ResourceGroupRepository } from '@cerulean/domain';
import { Injectable, Type } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager, In } from 'typeorm';
import { AgentPoolBodyDto } from '../clusters/dto/agent-pool-properties.dto';
import { toAgentPool, toManagedCluster } from '../clusters/cluster.mapper';
import { ClustersService } from '../clusters/clusters.service';
import { checkClusterChange, checkNewCluster, checkPoolRequest, requestedKubernetesVersion } from '../clusters/cluster-request-checks';
import { ManagedClusterBodyDto } from '../clusters/dto/managed-cluster.dto';
import { armValidationPipe } from '../common/validation';
import { MaintenanceConfigurationBodyDto } from '../maintenance-configurations/dto/maintenance-configuration.dto';
import { MAINTENANCE_CONFIGURATION_TYPE, toMaintenanceConfiguration } from '../maintenance-configurations/maintenance-configuration.mapper';
import { assertConfigName, resolveMaintenanceConfiguration } from '../maintenance-configurations/maintenance-configuration-rules';
import { ResourceGroupsService } from '../resource-groups/resource-groups.service';

/** Resource types this platform hosts (template deployments reject the others with NoRegisteredProviderFound). */
export const HOSTED_TYPES: readonly string[] = [
  ResourceTypes.managedClusters,
  ResourceTypes.agentPools,
  MAINTENANCE_CONFIGURATION_TYPE,
  ResourceTypes.resourceGroups,
];

export const isHostedType = (type: string): boolean => HOSTED_TYPES.some((t) => t.toLowerCase() === type.toLowerCase());

/** A resource as GET returns it (plain JSON). */
export type LiveResource = Record<string, unknown>;

/** A group's hosted resources by resource id, as GET answers them (maintenance configurations at the current version). */
export interface LiveInGroup {
  clusters: Record<string, LiveResource>;
  pools: Record<string, LiveResource>;
  configs: Record<string, LiveResource>;
}

/**
 * What template validation and what-if need of the hosted resources: a PUT's checks without the write (the same
 * validation pipe and provider checks the controllers run) and the group's live resources in their GET shapes.
 * Deployments themselves write through the public API (the worker's ARM front door).
 */
@Injectable()
export class HostedResources {
  private readonly pipe = armValidationPipe();

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly groups: ResourceGroupsService,
    private readonly clusters: ClustersService,
    private readonly clusterRows: ClusterRepository,
    private readonly poolRows: AgentPoolRepository,
    private readonly groupRows: ResourceGroupRepository,
  ) {}

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
    } else if (t === MAINTENANCE_CONFIGURATION_TYPE.toLowerCase()) {
      // A synchronous PUT (no operation): its name and schedule rules are all there is to check; the cluster must
      // exist when it runs (the PUT answers NotFound otherwise), which a template usually sees to with dependsOn.
      const dto = await this.validate(MaintenanceConfigurationBodyDto, body);
      resolveMaintenanceConfiguration(assertConfigName(name.split('/')[1] ?? ''), dto, new Date());
    } else {
      throw noRegisteredProvider(type);
    }
  }

  /** A cluster as it exists; undefined too when its group does not exist yet (a subscription deployment makes it first). */
  private async existingCluster(sub: string, rgName: string, name: string) {
    const group = await this.groupRows.findByName(this.db, sub, rgName);
    return group ? this.clusters.find(sub, rgName, name) : undefined;
  }

  /** Every cluster in the group, and its agent pools and maintenance configurations, by resource id (GET shapes). */
  async liveInGroup(sub: string, rgName: string): Promise<LiveInGroup> {
    const rg = await this.groups.get(sub, rgName);
    const clusters = await this.clusterRows.listInGroup(this.db, rg.id);
    const ids = clusters.map((c) => c.id);
    const pools = await this.poolRows.listByClusters(this.db, ids);
    const configs = ids.length ? await this.db.find(MaintenanceConfigurationEntity, { where: { clusterId: In(ids) } }) : [];
    const out: LiveInGroup = { clusters: {}, pools: {}, configs: {} };
    for (const c of clusters) {
      const own = pools.filter((p) => p.clusterId === c.id);
      const live = toManagedCluster(c, rg.name, own);
      out.clusters[live.id] = live;
      for (const p of own) {
        const pool = toAgentPool(c, rg.name, p);
        out.pools[pool.id] = pool;
      }
      const owner = { subscriptionId: c.subscriptionId, resourceGroup: rg.name, cluster: c.name };
      for (const m of configs.filter((m) => m.clusterId === c.id)) {
        const config = toMaintenanceConfiguration(owner, m, AKS_RESPONSE_MODEL.apiVersion);
        out.configs[config.id] = config as unknown as LiveResource;
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
