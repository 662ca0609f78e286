import { ClusterCredentialRepository, ManagedClusterEntity, OperationEntity, OperationRepository, OperationStatus } from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { OperationSuperseded } from '../engine/errors';
import { OperationContext } from '../engine/operation-context';
import { OperationRunner } from '../engine/operation-runner';
import { ControlPlane } from './control-plane';

/**
 * cluster.rotate-certificates: a new CA and new certificates (a new generation, keys sealed), then the control
 * plane is recreated with them: old kubeconfigs stop working, new ones work. A retry reuses its generation.
 */
@Injectable()
export class RotateCertificatesHandler {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly credentials: ClusterCredentialRepository,
    private readonly controlPlane: ControlPlane,
    private readonly operations: OperationRepository,
    private readonly runner: OperationRunner,
  ) {}

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    const found = await this.runner.clusterOf(op);
    if (!found) return;
    const { cluster, rg } = found;
    await this.db.transaction(async (tx) => {
      const locked = await tx.findOne(ManagedClusterEntity, { where: { id: cluster.id }, lock: { mode: 'pessimistic_write' } });
      if (locked) await this.credentials.rotate(tx, locked, op.id);
    });
    await ctx.progress(1, 3);
    await ctx.assertActive();
    await this.controlPlane.ensure(cluster, rg);
    await this.db.transaction(async (tx) => {
      if (!(await this.operations.finish(tx, op.id, OperationStatus.Succeeded))) throw new OperationSuperseded(op.id);
    });
  }
}
