import { ManagedClusterEntity, OperationEntity, OperationRepository, OperationStatus } from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { OperationSuperseded } from '../engine/errors';
import { OperationContext } from '../engine/operation-context';
import { NodeFleet } from './node-fleet';

/** cluster.delete: remove every node and the network, then the rows, with the operation's success. */
@Injectable()
export class ClusterDeleteHandler {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly fleet: NodeFleet,
    private readonly operations: OperationRepository,
  ) {}

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    if (op.clusterId) await this.fleet.teardown(op.clusterId, ctx);
    await this.db.transaction(async (tx) => {
      if (!(await this.operations.finish(tx, op.id, OperationStatus.Succeeded))) throw new OperationSuperseded(op.id);
      if (op.clusterId) await tx.delete(ManagedClusterEntity, { id: op.clusterId });
    });
  }
}
