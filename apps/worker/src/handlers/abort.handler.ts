import { ArmError } from '@cerulean/arm';
import { OperationEntity, OperationStatus } from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { EntityManager } from 'typeorm';
import { ClusterLocks } from '../engine/cluster-locks.service';
import { OperationContext } from '../engine/operation-context';
import { OutcomeRecorder } from '../engine/outcome.recorder';

const POLL_MS = 200;
const ABORT_TIMEOUT_MS = 120_000;

/**
 * cluster.abort: the API has flagged the target operation; the worker running it stops at its next
 * step and ends it Canceled. This waits for that. When no worker is running the target (its job is
 * queued or waiting for a retry), nobody holds its executor lock, and the abort cancels it here.
 */
@Injectable()
export class AbortHandler {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly outcomes: OutcomeRecorder,
    private readonly locks: ClusterLocks,
  ) {}

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    if (!op.targetOperationId) throw new ArmError(500, 'InternalServerError', `abort ${op.id} has no target operation`);
    const deadline = Date.now() + ABORT_TIMEOUT_MS;
    for (;;) {
      await ctx.assertActive();
      const target = await this.db.findOne(OperationEntity, { where: { id: op.targetOperationId } });
      if (!target || target.isTerminal()) return this.settle(op, target);
      const release = await this.locks.tryAcquire(target.lockKey);
      if (release) {
        try {
          await this.outcomes.cancel(target.id);
        } finally {
          await release();
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new ArmError(500, 'AbortTimedOut', `Operation ${target.id} did not stop within ${ABORT_TIMEOUT_MS / 1000} s of the abort request.`);
      }
      await sleep(POLL_MS);
    }
  }

  /** Succeeded when the target ended Canceled; a target that finished first makes the abort a 409 (R12.2). */
  private async settle(op: OperationEntity, target: OperationEntity | null): Promise<void> {
    if (target?.status !== OperationStatus.Canceled) {
      throw ArmError.conflict(
        'OperationNotAllowed',
        `The operation ${op.targetOperationId} ended as ${target?.status ?? 'deleted'} before it could be canceled.`,
      );
    }
    await this.outcomes.succeed(op);
  }
}
