import { isDependencyUnavailable } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { OperationKind } from '@cerulean/domain';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DEPLOYMENTS_QUEUE, OPERATIONS_QUEUE, OperationJobData, queueOf, SUBSCRIPTION_DEPLOYMENTS_QUEUE } from './operations-queue';

// How long a request waits for Redis to take its operation before leaving it to the sweeper.
const ENQUEUE_WAIT_MS = 3_000;

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

  /**
   * Hands a committed operation to Redis. Returns false when Redis did not take it within a few seconds (away,
   * restarting): the operation is already durable in Postgres, and the worker's sweeper enqueues every InProgress
   * operation Redis does not hold, so the caller's request has succeeded all the same. (An add still pending
   * completes when Redis is back; job id = operation id makes that and the sweeper's add one job.)
   */
  async enqueue(kind: OperationKind, operationId: string, correlationId?: string): Promise<boolean> {
    const queue = this.queues().find((q) => q.name === queueOf(kind)) ?? this.operations;
    const added = queue.add(
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
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((res) => (timer = setTimeout(() => res(false), ENQUEUE_WAIT_MS)));
    try {
      return await Promise.race([added.then(() => true), timedOut]);
    } catch (err) {
      if (!isDependencyUnavailable(err)) throw err;
      return false;
    } finally {
      clearTimeout(timer);
      added.catch(() => undefined);
    }
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
