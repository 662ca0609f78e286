import { Env } from '@cerulean/config';
import { OperationKind } from '@cerulean/domain';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DEPLOYMENTS_QUEUE, OPERATIONS_QUEUE, OperationJobData, queueOf, SUBSCRIPTION_DEPLOYMENTS_QUEUE } from './operations-queue';

/** The one producer of operation jobs. Job id = operation id, so re-adding the same operation is a no-op. */
@Injectable()
export class OperationQueue {
  constructor(
    @InjectQueue(OPERATIONS_QUEUE) private readonly operations: Queue<OperationJobData, void, OperationKind>,
    @InjectQueue(DEPLOYMENTS_QUEUE) private readonly deployments: Queue<OperationJobData, void, OperationKind>,
    @InjectQueue(SUBSCRIPTION_DEPLOYMENTS_QUEUE) private readonly subscriptionDeployments: Queue<OperationJobData, void, OperationKind>,
    private readonly env: Env,
  ) {}

  private queues() {
    return [this.operations, this.deployments, this.subscriptionDeployments];
  }

  async enqueue(kind: OperationKind, operationId: string, correlationId?: string): Promise<void> {
    const queue = this.queues().find((q) => q.name === queueOf(kind)) ?? this.operations;
    await queue.add(
      kind,
      { operationId, correlationId },
      {
        jobId: operationId,
        attempts: this.env.JOB_ATTEMPTS,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600 },
      },
    );
  }

  /** Whether BullMQ still holds a job for the operation, and in what state. */
  async jobState(operationId: string): Promise<string | undefined> {
    for (const queue of this.queues()) {
      const job = await queue.getJob(operationId);
      if (job) return job.getState();
    }
    return undefined;
  }

  async removeJob(operationId: string): Promise<void> {
    for (const queue of this.queues()) await queue.remove(operationId);
  }
}
