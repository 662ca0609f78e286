import { OperationEntity } from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { OperationContext } from '../engine/operation-context';
import { OutcomeRecorder } from '../engine/outcome.recorder';
import { NodeFleet } from './node-fleet.service';

/** cluster.delete: remove every node and the network, then the rows, with the operation's success. */
@Injectable()
export class ClusterDeleteHandler {
  constructor(
    private readonly fleet: NodeFleet,
    private readonly outcomes: OutcomeRecorder,
  ) {}

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    if (op.clusterId) await this.fleet.teardown(op.clusterId, ctx);
    await this.outcomes.succeed(op);
  }
}
