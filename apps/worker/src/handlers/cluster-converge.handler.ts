import { newEtag } from '@cerulean/arm';
import { KubernetesVersionCatalog } from '@cerulean/catalog';
import {
  AgentPoolEntity, ManagedClusterEntity, OperationEntity, OperationKind, PowerStateCode, ProvisioningState, ResourceGroupEntity,
} from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { OperationContext } from '../engine/operation-context';
import { OperationRunner } from '../engine/operation-runner';
import { ControlPlane } from './control-plane';
import { ConvergeOptions, NodeFleet, eachLimited } from './node-fleet';

const versions = new KubernetesVersionCatalog();

/**
 * cluster.put, cluster.start/stop, agent-pool.put, agent-pool.delete and agent-pool.upgrade-node-image:
 * converge the cluster's nodes to the desired pools, then settle the rows. An upgrade moves the control
 * plane first, then each pool in turn (`currentKubernetesVersion` / `currentOrchestratorVersion` show how
 * far it got). Re-running it after a crash only does what is still missing.
 */
@Injectable()
export class ClusterConvergeHandler {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly fleet: NodeFleet,
    private readonly runner: OperationRunner,
    private readonly controlPlane: ControlPlane,
  ) {}

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    const found = await this.runner.clusterOf(op);
    if (!found) return;
    const { cluster, rg } = found;
    const power = op.kind === OperationKind.ClusterStop ? PowerStateCode.Stopped : op.kind === OperationKind.ClusterStart ? PowerStateCode.Running : undefined;
    const running = (power ?? cluster.powerState) === PowerStateCode.Running;
    const controlPlane = versions.resolve(cluster.kubernetesVersion) ?? cluster.kubernetesVersion;
    // Only a version change orders the control plane before the pools (pools never run ahead of it).
    const upgrading = cluster.currentKubernetesVersion !== null && cluster.currentKubernetesVersion !== controlPlane;
    if (running && upgrading) {
      // Control plane first: it is (re)created on the requested version; from then on pools may follow it.
      await this.ensureControlPlane(ctx, cluster, rg);
      await this.db.update(ManagedClusterEntity, { id: cluster.id }, { currentKubernetesVersion: controlPlane });
      ctx.logger.log(`control plane of ${cluster.name} now at ${controlPlane}`);
    }
    if (op.kind === OperationKind.ClusterStart) {
      // Starting brings every pool back; their rows say Running while the nodes come up.
      await this.db.update(AgentPoolEntity, { clusterId: cluster.id }, { powerState: PowerStateCode.Running });
    }
    const pools = await this.db.find(AgentPoolEntity, { where: { clusterId: cluster.id }, order: { createdAt: 'ASC' } });
    const options: ConvergeOptions = {
      power,
      onPoolRolled: async (pool) => {
        await this.db.update(AgentPoolEntity, { id: pool.id }, { currentOrchestratorVersion: versions.resolve(pool.orchestratorVersion) ?? pool.orchestratorVersion });
      },
    };
    const nodes = (): Promise<void> => this.fleet.converge(ctx, cluster, rg, pools, options);
    if (running && !upgrading) {
      // No version change: the control plane and the nodes do not wait for each other (a create starts them together).
      await eachLimited([() => this.ensureControlPlane(ctx, cluster, rg), nodes], 2, (step) => step());
    } else {
      await nodes();
    }
    if (!running) await this.controlPlane.stop(cluster.id);

    await this.runner.succeedClusterChange(op, async (tx, c, current) => {
      const clusterLevel = !op.agentPoolId;
      for (const pool of current) {
        if (pool.provisioningState === ProvisioningState.Deleting) {
          await tx.delete(AgentPoolEntity, { id: pool.id });
          continue;
        }
        if (!clusterLevel && pool.id !== op.agentPoolId) continue;
        await tx.update(AgentPoolEntity, { id: pool.id }, {
          provisioningState: ProvisioningState.Succeeded,
          provisioningError: null,
          currentOrchestratorVersion: versions.resolve(pool.orchestratorVersion) ?? pool.orchestratorVersion,
          ...(power ? { powerState: power } : {}),
          etag: newEtag(),
        });
      }
      if (clusterLevel) {
        await tx.update(ManagedClusterEntity, { id: c.id }, {
          provisioningState: ProvisioningState.Succeeded,
          provisioningError: null,
          currentKubernetesVersion: versions.resolve(c.kubernetesVersion) ?? c.kubernetesVersion,
          ...(power ? { powerState: power } : {}),
          etag: newEtag(),
        });
      }
    });
  }

  private async ensureControlPlane(ctx: OperationContext, cluster: ManagedClusterEntity, rg: ResourceGroupEntity): Promise<void> {
    await ctx.assertActive();
    await this.controlPlane.ensure(cluster, rg);
  }
}
