import { KubernetesVersionCatalog } from '@cerulean/catalog';
import {
  AgentPoolEntity,
  AgentPoolRepository,
  ClusterRepository,
  ManagedClusterEntity,
  OperationEntity,
  OperationKind,
  PowerStateCode,
  ResourceGroupEntity,
} from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { OperationContext } from '../engine/operation-context';
import { OutcomeRecorder, powerAfter } from '../engine/outcome.recorder';
import { ControlPlane } from './control-plane.service';
import { ConvergeOptions, NodeFleet, eachLimited } from './node-fleet.service';

const versions = new KubernetesVersionCatalog();

/**
 * cluster.put, cluster.start/stop, agent-pool.put, agent-pool.delete, agent-pool.upgrade-node-image and agent-pool.delete-machines:
 * converge the cluster's nodes to the desired pools, then record the success (OutcomeRecorder settles the rows). An upgrade moves the control
 * plane first, then each pool in turn (`currentKubernetesVersion` / `currentOrchestratorVersion` show how
 * far it got). Re-running it after a crash only does what is still missing.
 */
@Injectable()
export class ClusterConvergeHandler {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly clusters: ClusterRepository,
    private readonly pools: AgentPoolRepository,
    private readonly fleet: NodeFleet,
    private readonly outcomes: OutcomeRecorder,
    private readonly controlPlane: ControlPlane,
  ) {}

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    // Gone: its delete canceled this operation first and this is a stale job.
    const found = await this.clusters.findWithGroup(this.db, op.clusterId);
    if (!found) return this.outcomes.resourceGone(op);
    const { cluster, rg } = found;
    const power = powerAfter(op.kind);
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
      // Starting brings every pool back; the cluster's and their rows say Running while the nodes come up. A start that
      // fails leaves Failed and Running, as AKS shows it, so node repair and the next change bring the nodes back.
      await this.db.update(ManagedClusterEntity, { id: cluster.id }, { powerState: PowerStateCode.Running });
      await this.db.update(AgentPoolEntity, { clusterId: cluster.id }, { powerState: PowerStateCode.Running });
    }
    const pools = await this.pools.listByCluster(this.db, cluster.id);
    const options: ConvergeOptions = {
      power,
      onPoolRolled: async (pool) => {
        await this.db.update(
          AgentPoolEntity,
          { id: pool.id },
          { currentOrchestratorVersion: versions.resolve(pool.orchestratorVersion) ?? pool.orchestratorVersion },
        );
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

    await this.outcomes.succeed(op);
  }

  private async ensureControlPlane(ctx: OperationContext, cluster: ManagedClusterEntity, rg: ResourceGroupEntity): Promise<void> {
    await ctx.assertActive();
    await this.controlPlane.ensure(cluster, rg);
  }
}
