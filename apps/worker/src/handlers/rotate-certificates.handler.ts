import { ClusterCredentialRepository, ManagedClusterEntity, OperationEntity, OperationRepository, OperationStatus, ResourceGroupEntity } from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { OperationSuperseded } from '../engine/errors';
import { OperationContext } from '../engine/operation-context';
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
  ) {}

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    const cluster = op.clusterId ? await this.db.findOne(ManagedClusterEntity, { where: { id: op.clusterId } }) : null;
    const rg = cluster ? await this.db.findOne(ResourceGroupEntity, { where: { id: cluster.resourceGroupId } }) : null;
    if (!cluster || !rg) {
      await this.db.transaction((tx) => this.operations.finish(tx, op.id, OperationStatus.Canceled, { code: 'ResourceNotFound', message: 'The managed cluster no longer exists.' }));
      return;
    }
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
