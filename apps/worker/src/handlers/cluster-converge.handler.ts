import { newEtag } from '@cerulean/arm';
import { KubernetesVersionCatalog } from '@cerulean/catalog';
import {
  AgentPoolEntity, ManagedClusterEntity, OperationEntity, OperationKind, OperationRepository, OperationStatus, ProvisioningState,
  ResourceGroupEntity,
} from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { OperationContext } from '../engine/operation-context';
import { OperationRunner } from '../engine/operation-runner';
import { ControlPlane } from './control-plane';
import { NodeFleet } from './node-fleet';

const versions = new KubernetesVersionCatalog();

/**
 * cluster.put, agent-pool.put and agent-pool.delete: converge the cluster's nodes to the desired pools,
 * then settle the rows. Re-running it after a crash only does what is still missing.
 */
@Injectable()
export class ClusterConvergeHandler {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly fleet: NodeFleet,
    private readonly runner: OperationRunner,
    private readonly operations: OperationRepository,
    private readonly controlPlane: ControlPlane,
  ) {}

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    const cluster = op.clusterId ? await this.db.findOne(ManagedClusterEntity, { where: { id: op.clusterId } }) : null;
    const rg = cluster ? await this.db.findOne(ResourceGroupEntity, { where: { id: cluster.resourceGroupId } }) : null;
    if (!cluster || !rg) {
      // The cluster was deleted under us (its delete canceled this operation first, so this is a stale job).
      await this.db.transaction((tx) => this.operations.finish(tx, op.id, OperationStatus.Canceled, { code: 'ResourceNotFound', message: 'The managed cluster no longer exists.' }));
      return;
    }
    const pools = await this.db.find(AgentPoolEntity, { where: { clusterId: cluster.id } });
    await this.controlPlane.ensure(cluster, rg);
    await this.fleet.converge(ctx, cluster, rg, pools);

    await this.runner.succeedClusterChange(op, async (tx, c, current) => {
      for (const pool of current) {
        if (pool.provisioningState === ProvisioningState.Deleting) {
          await tx.delete(AgentPoolEntity, { id: pool.id });
          continue;
        }
        const touched = op.kind === OperationKind.ClusterPut || pool.id === op.agentPoolId;
        if (!touched) continue;
        await tx.update(AgentPoolEntity, { id: pool.id }, {
          provisioningState: ProvisioningState.Succeeded,
          provisioningError: null,
          currentOrchestratorVersion: versions.resolve(pool.orchestratorVersion) ?? pool.orchestratorVersion,
          etag: newEtag(),
        });
      }
      if (op.kind === OperationKind.ClusterPut) {
        await tx.update(ManagedClusterEntity, { id: c.id }, {
          provisioningState: ProvisioningState.Succeeded,
          provisioningError: null,
          currentKubernetesVersion: versions.resolve(c.kubernetesVersion) ?? c.kubernetesVersion,
          etag: newEtag(),
        });
      }
    });
  }
}
