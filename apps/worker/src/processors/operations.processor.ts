import { Env } from '@cerulean/config';
import { OperationKind } from '@cerulean/domain';
import { DEPLOYMENTS_QUEUE, OPERATIONS_QUEUE, OperationJobData, redisConnection, SUBSCRIPTION_DEPLOYMENTS_QUEUE } from '@cerulean/queue-contracts';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Job, Worker, WorkerOptions } from 'bullmq';
import { OperationRunner } from '../engine/operation.runner';
import { OutcomeRecorder } from '../engine/outcome.recorder';

/**
 * The BullMQ settings of a worker of one queue. A killed worker's job is taken over once its lock (JOB_LOCK_MS,
 * renewed every half of it) expires; stalls never fail a job by themselves.
 */
export function workerOptions(env: Env, concurrency: number): WorkerOptions {
  return {
    ...redisConnection(env),
    concurrency,
    lockDuration: env.JOB_LOCK_MS,
    lockRenewTime: env.JOB_LOCK_MS / 2,
    stalledInterval: env.STALLED_INTERVAL_MS,
    maxStalledCount: 1000,
  };
}

/**
 * The queues this process consumes and their slots. Template deployments wait for the operations they start, so they
 * run on queues (and slots, DEPLOYMENT_CONCURRENCY) of their own; subscription-scope ones, which wait for the group
 * deployments they nest, on a third.
 */
export const consumedQueues = (env: Env): { queue: string; concurrency: number }[] => [
  { queue: OPERATIONS_QUEUE, concurrency: env.WORKER_CONCURRENCY },
  { queue: DEPLOYMENTS_QUEUE, concurrency: env.DEPLOYMENT_CONCURRENCY },
  { queue: SUBSCRIPTION_DEPLOYMENTS_QUEUE, concurrency: env.DEPLOYMENT_CONCURRENCY },
];

/**
 * Consumes the operation queues: one BullMQ worker per queue, built after boot with its settings from Env, each job
 * handed to the OperationRunner. Records an operation Failed when its job's last attempt fails.
 */
@Injectable()
export class OperationsProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OperationsProcessor.name);
  private workers: Worker<OperationJobData, void, OperationKind>[] = [];

  constructor(
    private readonly env: Env,
    private readonly runner: OperationRunner,
    private readonly outcomes: OutcomeRecorder,
  ) {}

  onApplicationBootstrap(): void {
    this.workers = consumedQueues(this.env).map(({ queue, concurrency }) => {
      const worker = new Worker<OperationJobData, void, OperationKind>(queue, (job) => this.process(job), workerOptions(this.env, concurrency));
      worker.on('failed', (job, err) => {
        this.onFailed(job, err).catch((e: unknown) => this.logger.error(`recording the failure of job ${job?.id ?? ''}: ${String(e)}`));
      });
      worker.on('error', (err) => this.logger.error(`worker of ${queue}: ${err.message}`));
      return worker;
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }

  process(job: Job<OperationJobData, void, OperationKind>): Promise<void> {
    return this.runner.run(job.data.operationId);
  }

  /** When retries are exhausted the operation must not stay InProgress forever. */
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
