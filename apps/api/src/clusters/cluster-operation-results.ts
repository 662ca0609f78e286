import { AgentPoolRepository, ClusterRepository, OperationKind } from '@cerulean/domain';
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
    private readonly clusters: ClusterRepository,
    private readonly pools: AgentPoolRepository,
    private readonly results: OperationResults,
  ) {}

  onModuleInit(): void {
    this.results.register([OperationKind.ClusterPut, OperationKind.AgentPoolPut, OperationKind.AgentPoolUpgradeNodeImage], async (op) => {
      const found = await this.clusters.findWithGroup(this.db, op.clusterId);
      if (!found) return { status: 204 };
      const { cluster, rg } = found;
      const pools = await this.pools.listByCluster(this.db, cluster.id);
      if (op.kind === OperationKind.ClusterPut) return { status: 200, body: toManagedCluster(cluster, rg.name, pools) };
      const pool = pools.find((p) => p.id === op.agentPoolId);
      return pool ? { status: 200, body: toAgentPool(cluster, rg.name, pool) } : { status: 204 };
    });
  }
}
