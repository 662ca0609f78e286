import { AgentPoolEntity, ManagedClusterEntity, OperationKind, ResourceGroupEntity } from '@cerulean/domain';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { OperationResults } from '../operations/operation-results';
import { toAgentPool, toManagedCluster } from './cluster.mapper';

/** The result URL of a cluster PUT answers the cluster; of a pool PUT or node image upgrade, the pool (204 once gone). */
@Injectable()
export class ClusterOperationResults implements OnModuleInit {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly results: OperationResults,
  ) {}

  onModuleInit(): void {
    this.results.register([OperationKind.ClusterPut, OperationKind.AgentPoolPut, OperationKind.AgentPoolUpgradeNodeImage], async (op) => {
      const cluster = op.clusterId ? await this.db.findOne(ManagedClusterEntity, { where: { id: op.clusterId } }) : null;
      const rg = cluster ? await this.db.findOne(ResourceGroupEntity, { where: { id: cluster.resourceGroupId } }) : null;
      if (!cluster || !rg) return { status: 204 };
      const pools = await this.db.find(AgentPoolEntity, { where: { clusterId: cluster.id }, order: { createdAt: 'ASC' } });
      if (op.kind === OperationKind.ClusterPut) return { status: 200, body: toManagedCluster(cluster, rg.name, pools) };
      const pool = pools.find((p) => p.id === op.agentPoolId);
      return pool ? { status: 200, body: toAgentPool(cluster, rg.name, pool) } : { status: 204 };
    });
  }
}
