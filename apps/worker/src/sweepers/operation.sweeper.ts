import { Env } from '@cerulean/config';
import { OperationEntity, OperationStatus } from '@cerulean/domain';
import { OperationQueue } from '@cerulean/queue-contracts';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager, LessThan } from 'typeorm';
import { OutcomeRecorder } from '../engine/outcome.recorder';
import { PeriodicPass } from './periodic';

// An operation is younger than this while the API is still between its commit and its enqueue.
const GRACE_MS = 3000;

/**
 * Postgres is the truth: an InProgress operation that Redis does not hold (lost enqueue, flushed Redis)
 * is enqueued again (job id = operation id, so a duplicate is impossible). One whose job failed for good
 * without being recorded is marked Failed.
 */
@Injectable()
export class OperationSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OperationSweeper.name);
  private readonly periodic = new PeriodicPass(this.logger, 'sweep', 0, () => this.pass());

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly queue: OperationQueue,
    private readonly outcomes: OutcomeRecorder,
    private readonly env: Env,
  ) {}

  onApplicationBootstrap(): void {
    this.periodic.start(this.env.SWEEP_INTERVAL_MS, { immediately: true });
  }

  onApplicationShutdown(): void {
    this.periodic.stop();
  }

  /** One pass; returns how many operations it queued again. */
  sweep(): Promise<number> {
    return this.periodic.run();
  }

  private async pass(): Promise<number> {
    let requeued = 0;
    const ops = await this.db.find(OperationEntity, {
      where: { status: OperationStatus.InProgress, startTime: LessThan(new Date(Date.now() - GRACE_MS)) },
      take: 500,
    });
    for (const op of ops) {
      const state = await this.queue.jobState(op.id);
      if (state === undefined || state === 'unknown') {
        if (!(await this.queue.enqueue(op.kind, op.id, op.correlationId ?? undefined))) continue;
        requeued += 1;
        this.logger.warn(`re-enqueued ${op.kind} ${op.id}: Redis had no job for it`);
      } else if (state === 'failed') {
        await this.outcomes.fail(op.id, { code: 'InternalServerError', message: 'The operation failed and could not be retried.' });
      } else if (state === 'completed') {
        await this.queue.removeJob(op.id);
        if (await this.queue.enqueue(op.kind, op.id, op.correlationId ?? undefined)) requeued += 1;
      }
    }
    return requeued;
  }
}
