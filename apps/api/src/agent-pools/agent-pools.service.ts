import { ArmError, assertAgentPoolName, checkPreconditions, modifiedSystemData, newEtag, ResourceTypes } from '@cerulean/arm';
import { isAutomaticSku, LocationCatalog } from '@cerulean/catalog';
import {
  AgentPoolEntity,
  AgentPoolMode,
  AgentPoolRepository,
  ClusterWithPools,
  OperationEntity,
  OperationKind,
  OperationRepository,
  PowerStateCode,
  ProvisioningState,
  clusterLockKey,
} from '@cerulean/domain';
import { OperationStarter } from '@cerulean/queue-contracts';
import { Injectable } from '@nestjs/common';
import { newAgentPool, resolveAgentPoolSettings } from '../clusters/agent-pool-settings';
import { checkAutomaticPool } from '../clusters/cluster-request-checks';
import { poolChangeState, stoppedClusterRefuses } from '../clusters/cluster-rules';
import { ClustersService } from '../clusters/clusters.service';
import { AgentPoolBodyDto } from '../clusters/dto/agent-pool-properties.dto';
import { ArmCall } from '../common/arm-request';
import { resourceGroupBeingDeleted } from '../resource-groups/resource-groups.service';

const locations = new LocationCatalog();

export interface PoolInCluster extends ClusterWithPools {
  pool: AgentPoolEntity;
}

@Injectable()
export class AgentPoolsService {
  constructor(
    private readonly clusters: ClustersService,
    private readonly pools: AgentPoolRepository,
    private readonly operations: OperationRepository,
    private readonly starter: OperationStarter,
  ) {}

  async get(sub: string, rg: string, clusterName: string, poolName: string): Promise<PoolInCluster> {
    const found = await this.clusters.get(sub, rg, clusterName);
    const pool = found.pools.find((p) => p.nameKey === poolName.toLowerCase());
    if (!pool) throw ArmError.resourceNotFound(ResourceTypes.agentPools, `${found.cluster.name}/${poolName}`, found.rg.name);
    return { ...found, pool };
  }

  /** PUT agentPools/{name}: create a pool or change one (count scales it), as one cluster operation. */
  async createOrUpdate(
    sub: string,
    rgName: string,
    clusterName: string,
    poolName: string,
    body: AgentPoolBodyDto,
    call: ArmCall,
  ): Promise<PoolInCluster & { operation: OperationEntity; created: boolean }> {
    assertAgentPoolName(poolName);
    return this.starter.run(async (tx) => {
      const found = await this.clusters.get(sub, rgName, clusterName, tx, true);
      const { rg, cluster, pools } = found;
      if (rg.provisioningState === ProvisioningState.Deleting) throw resourceGroupBeingDeleted(rg.name);
      if (cluster.provisioningState === ProvisioningState.Deleting) {
        throw ArmError.conflict('OperationNotAllowed', `Managed cluster '${cluster.name}' is being deleted.`);
      }
      const existing = pools.find((p) => p.nameKey === poolName.toLowerCase());
      checkPreconditions('PUT', existing?.etag, call);
      const props = body.properties ?? {};
      if (existing && props.provisioningState !== undefined && props.provisioningState !== existing.provisioningState) {
        throw ArmError.invalidParameter(
          'properties.provisioningState',
          `provisioningState is read-only; '${props.provisioningState}' does not match '${existing.provisioningState}'.`,
        );
      }
      const location = locations.find(cluster.location);
      if (!location) throw ArmError.internal();
      const settings = resolveAgentPoolSettings(props, {
        target: 'properties',
        location,
        clusterVersion: cluster.kubernetesVersion,
        defaultMode: AgentPoolMode.User,
        existing,
      });
      if (isAutomaticSku(cluster.sku)) checkAutomaticPool({ name: poolName, enableAutoScaling: settings.enableAutoScaling, target: 'properties' });
      const others = pools.filter((p) => p.id !== existing?.id);
      if (!others.some((p) => p.mode === AgentPoolMode.System && p.count >= 1) && !(settings.mode === AgentPoolMode.System && settings.count >= 1)) {
        throw ArmError.invalidParameter('properties.mode', 'A managed cluster must keep at least one System agent pool with at least 1 node.');
      }
      const now = call.receivedAt;
      let pool: AgentPoolEntity;
      if (cluster.powerState === PowerStateCode.Stopped) {
        const changing =
          !existing ||
          settings.count !== existing.count ||
          settings.orchestratorVersion !== existing.orchestratorVersion ||
          settings.powerState !== existing.powerState;
        if (changing) throw stoppedClusterRefuses(cluster.name, existing ? 'updating agent pool' : 'adding agent pool');
      }
      if (existing) {
        pool = Object.assign(existing, settings, {
          name: poolName,
          provisioningState: poolChangeState(existing, settings),
          provisioningError: null,
          etag: newEtag(),
          systemData: modifiedSystemData(existing.systemData, call.caller, now),
        });
      } else {
        pool = tx.create(AgentPoolEntity, newAgentPool(cluster.id, poolName, settings, this.clusters.newPoolNodeImage, call.caller, now));
      }
      // A 409 from startOnCluster rolls the whole transaction back, this save included.
      await this.pools.save(tx, pool);
      const operation = await this.starter.startOnCluster(tx, { rg, cluster, pool }, OperationKind.AgentPoolPut, call);
      return { ...found, pools: existing ? pools : [...pools, pool], pool, operation, created: !existing };
    });
  }

  /** DELETE agentPools/{name}: 204 when absent; the last System pool cannot go (R8.4). */
  async delete(sub: string, rgName: string, clusterName: string, poolName: string, call: ArmCall): Promise<OperationEntity | undefined> {
    assertAgentPoolName(poolName);
    const { operation } = await this.starter.run(async (tx): Promise<{ operation?: OperationEntity }> => {
      const found = await this.clusters.get(sub, rgName, clusterName, tx, true);
      const { rg, cluster, pools } = found;
      const pool = pools.find((p) => p.nameKey === poolName.toLowerCase());
      if (!pool) return {};
      checkPreconditions('DELETE', pool.etag, call);
      if (pool.provisioningState === ProvisioningState.Deleting) {
        const running = await this.operations.findInProgress(tx, clusterLockKey(cluster.id));
        if (running && running.agentPoolId === pool.id && running.kind === OperationKind.AgentPoolDelete) return { operation: running };
      }
      if (pool.mode === AgentPoolMode.System && !pools.some((p) => p.id !== pool.id && p.mode === AgentPoolMode.System && p.count >= 1)) {
        throw ArmError.badRequest(
          'OperationNotAllowed',
          `Agent pool '${pool.name}' is the last System agent pool of managed cluster '${cluster.name}' and cannot be deleted.`,
          'agentPoolName',
        );
      }
      const started = await this.starter.startOnCluster(tx, { rg, cluster, pool }, OperationKind.AgentPoolDelete, call);
      pool.provisioningState = ProvisioningState.Deleting;
      pool.etag = newEtag();
      await this.pools.save(tx, pool);
      return { operation: started };
    });
    return operation;
  }
}
