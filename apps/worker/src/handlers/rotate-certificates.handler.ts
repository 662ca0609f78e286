import { AgentPoolRepository, ClusterCredentialRepository, ClusterRepository, OperationEntity } from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { OperationContext } from '../engine/operation-context';
import { OutcomeRecorder } from '../engine/outcome.recorder';
import { ControlPlane } from './control-plane.service';
import { NodeFleet } from './node-fleet.service';

/**
 * cluster.rotate-certificates: a new CA and new certificates (a new generation, keys sealed), then the control
 * plane is recreated with them (old kubeconfigs stop working, new ones work) and so is every node, in place, with new
 * kubelet certificates (AKS's rotate-certs recreates the nodes): a kubelet of the old CA could no longer reach the API
 * server. A retry reuses its generation and remakes only the nodes still on an older one.
 */
@Injectable()
export class RotateCertificatesHandler {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly clusters: ClusterRepository,
    private readonly credentials: ClusterCredentialRepository,
    private readonly controlPlane: ControlPlane,
    private readonly pools: AgentPoolRepository,
    private readonly fleet: NodeFleet,
    private readonly outcomes: OutcomeRecorder,
  ) {}

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    // Gone: its delete canceled this operation first and this is a stale job.
    const found = await this.clusters.findWithGroup(this.db, op.clusterId);
    if (!found) return this.outcomes.resourceGone(op);
    const { cluster, rg } = found;
    await this.db.transaction(async (tx) => {
      const locked = await this.clusters.findById(tx, cluster.id, true);
      if (locked) await this.credentials.rotate(tx, locked, op.id);
    });
    await ctx.progress(1, 3);
    await ctx.assertActive();
    await this.controlPlane.ensure(cluster, rg);
    await this.fleet.converge(ctx, cluster, rg, await this.pools.listByCluster(this.db, cluster.id));
    await this.outcomes.succeed(op);
  }
}
