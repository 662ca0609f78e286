import { Env } from '@cerulean/config';
import { OperationKind } from '@cerulean/domain';
import { DEPLOYMENTS_QUEUE, OPERATIONS_QUEUE, OperationJobData, SUBSCRIPTION_DEPLOYMENTS_QUEUE } from '@cerulean/queue-contracts';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Job } from 'bullmq';
import { OperationRunner } from '../engine/operation-runner';
import { OutcomeRecorder } from '../engine/outcome-recorder';

/**
 * A BullMQ worker of one queue, started only after boot (its settings come from Env). A killed worker's job is
 * taken over once its lock expires; stalls never fail a job by themselves.
 */
abstract class QueueWorker extends WorkerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  protected readonly logger = new Logger(this.constructor.name);

  constructor(
    protected readonly env: Env,
    protected readonly runner: OperationRunner,
    protected readonly outcomes: OutcomeRecorder,
  ) {
    super();
  }

  protected abstract concurrency(): number;

  onApplicationBootstrap(): void {
    Object.assign(this.worker.opts, {
      lockDuration: this.env.JOB_LOCK_MS,
      lockRenewTime: this.env.JOB_LOCK_MS / 2,
      stalledInterval: this.env.STALLED_INTERVAL_MS,
      maxStalledCount: 1000,
    });
    // The worker built its lock manager (which renews job locks) from the options it was created with: renew on
    // the lock duration set above, or a job running longer than JOB_LOCK_MS loses its lock and is run twice.
    (this.worker as unknown as { createLockManager(): void }).createLockManager();
    this.worker.concurrency = this.concurrency();
    void this.worker.run().catch((err: unknown) => this.logger.error(`worker stopped: ${String(err)}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker.close();
  }

  /** When retries are exhausted the operation must not stay InProgress forever. */
  @OnWorkerEvent('failed')
  async onFailed(job: Job<OperationJobData> | undefined, err: Error): Promise<void> {
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    this.logger.warn(`job ${job.id} attempt ${job.attemptsMade}/${attempts} failed: ${err.message}`);
    if (job.attemptsMade < attempts) return;
    await this.outcomes.fail(job.data.operationId, {
      code: 'InternalServerError',
      message: `The operation failed after ${job.attemptsMade} attempts: ${err.message}`,
    });
  }
}

/** Resource-group-scope template deployments, on their own queue and slots (DEPLOYMENT_CONCURRENCY). */
@Processor(DEPLOYMENTS_QUEUE, { autorun: false })
export class DeploymentsProcessor extends QueueWorker {
  protected concurrency(): number {
    return this.env.DEPLOYMENT_CONCURRENCY;
  }

  process(job: Job<OperationJobData, void, OperationKind>): Promise<void> {
    return this.runner.run(job.data.operationId);
  }
}

/**
 * Subscription-scope deployments, which wait for the group-scope deployments they nest: on a third queue with
 * slots of their own (DEPLOYMENT_CONCURRENCY), so a burst of them cannot hold every deployment slot.
 */
@Processor(SUBSCRIPTION_DEPLOYMENTS_QUEUE, { autorun: false })
export class SubscriptionDeploymentsProcessor extends DeploymentsProcessor {}

/** Hands operation jobs to the runner, which routes them to their handlers (WORKER_CONCURRENCY at once). */
@Processor(OPERATIONS_QUEUE, { autorun: false })
export class OperationsProcessor extends QueueWorker {
  protected concurrency(): number {
    return this.env.WORKER_CONCURRENCY;
  }

  process(job: Job<OperationJobData, void, OperationKind>): Promise<void> {
    return this.runner.run(job.data.operationId);
  }
}
