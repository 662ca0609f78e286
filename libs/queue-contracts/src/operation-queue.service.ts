import { Env } from '@cerulean/config';
import { OperationKind } from '@cerulean/domain';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { OPERATIONS_QUEUE, OperationJobData } from './operations-queue';

/** The one producer of operation jobs. Job id = operation id, so re-adding the same operation is a no-op. */
@Injectable()
export class OperationQueue {
  constructor(
    @InjectQueue(OPERATIONS_QUEUE) private readonly queue: Queue<OperationJobData, void, OperationKind>,
    private readonly env: Env,
  ) {}

  async enqueue(kind: OperationKind, operationId: string, correlationId?: string): Promise<void> {
    await this.queue.add(kind, { operationId, correlationId }, {
      jobId: operationId,
      attempts: this.env.JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: { age: 24 * 3600 },
    });
  }

  /** Whether BullMQ still holds a job for the operation, and in what state. */
  async jobState(operationId: string): Promise<string | undefined> {
    const job = await this.queue.getJob(operationId);
    if (!job) return undefined;
    return job.getState();
  }

  async removeJob(operationId: string): Promise<void> {
    await this.queue.remove(operationId);
  }
}
