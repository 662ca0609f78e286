import { ManagedClusterEntity, OperationEntity, clusterLockKey } from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { ClusterLocks } from '../engine/cluster-locks.service';
import { OperationContext } from '../engine/operation-context';
import { OutcomeRecorder } from '../engine/outcome.recorder';
import { NodeFleet } from './node-fleet.service';

/** resource-group.delete: tear down every cluster of the group (each under its own lock), then the group. */
@Injectable()
export class ResourceGroupDeleteHandler {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly fleet: NodeFleet,
    private readonly locks: ClusterLocks,
    private readonly outcomes: OutcomeRecorder,
  ) {}

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    if (!op.resourceGroupId) return;
    const clusters = await this.db.find(ManagedClusterEntity, { where: { resourceGroupId: op.resourceGroupId } });
    let done = 0;
    for (const cluster of clusters) {
      await ctx.assertActive();
      // Waits for a canceled cluster operation that is still finishing its current step.
      const release = await this.locks.acquire(clusterLockKey(cluster.id), 120_000);
      try {
        await this.fleet.teardown(cluster.id);
      } finally {
        await release();
      }
      done += 1;
      await ctx.progress(done, clusters.length + 1);
    }
    await this.outcomes.succeed(op);
  }
}
