import { ArmError } from '@cerulean/arm';
import { OperationEntity, OperationKind, OperationRepository } from '@cerulean/domain';
import { Injectable, Logger } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { EntityManager } from 'typeorm';
import { DeploymentHandler } from '../deployments/deployment.handler';
import { AbortHandler } from '../handlers/abort.handler';
import { ClusterConvergeHandler } from '../handlers/cluster-converge.handler';
import { ClusterDeleteHandler } from '../handlers/cluster-delete.handler';
import { ResourceGroupDeleteHandler } from '../handlers/resource-group-delete.handler';
import { RotateCertificatesHandler } from '../handlers/rotate-certificates.handler';
import { RunCommandHandler } from '../handlers/run-command.handler';
import { ClusterLocks, Release } from './cluster-locks.service';
import { OperationCanceled, OperationSuperseded } from './errors';
import { OperationContext } from './operation-context';
import { OutcomeRecorder } from './outcome.recorder';

/** What every handler is: it runs one operation, and ends it through the OutcomeRecorder (or throws). */
export interface OperationHandler {
  run(op: OperationEntity, ctx: OperationContext): Promise<void>;
}

/** How often a group deployment's job, waiting for a run inline elsewhere, looks again. */
const NESTED_LOCK_POLL_MS = 500;

const assertNever = (x: never): never => {
  throw new Error(`no handler for operation kind ${String(x)}`);
};

/**
 * The operation engine: loads an operation, takes its cluster's executor lock and routes it to its kind's handler.
 * How it ends is the OutcomeRecorder's: a cancellation ends it Canceled, an ArmError Failed. Transient errors
 * propagate so BullMQ retries the job; the processor records the last one when attempts run out.
 */
@Injectable()
export class OperationRunner {
  private readonly logger = new Logger(OperationRunner.name);

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly operations: OperationRepository,
    private readonly locks: ClusterLocks,
    private readonly outcomes: OutcomeRecorder,
    private readonly converge: ClusterConvergeHandler,
    private readonly clusterDelete: ClusterDeleteHandler,
    private readonly groupDelete: ResourceGroupDeleteHandler,
    private readonly abort: AbortHandler,
    private readonly rotateCertificates: RotateCertificatesHandler,
    private readonly runCommand: RunCommandHandler,
    private readonly deployment: DeploymentHandler,
  ) {}

  async run(operationId: string): Promise<void> {
    const first = await this.db.findOne(OperationEntity, { where: { id: operationId } });
    if (!first || first.isTerminal()) return; // an earlier attempt (or a cancel) already ended it
    const release = await this.acquireFor(first);
    if (!release) return; // ended meanwhile: run inline by the deployment that nests it (runNested)
    await this.execute(operationId, release);
  }

  /**
   * Runs a group deployment here and now, in the slot of the deployment waiting for it, when nobody runs it yet
   * (its lock is free): a deployment waiting for its nested ones never waits for a free slot, so deployments that
   * nest others cannot take every slot and wait forever. False when another worker runs it, or on a transient
   * error (its own job runs it then). The job queued for it finds it ended and does nothing.
   */
  async runNested(operationId: string): Promise<boolean> {
    const op = await this.db.findOne(OperationEntity, { where: { id: operationId } });
    if (!op || op.isTerminal()) return true;
    const release = await this.locks.tryAcquire(op.lockKey);
    if (!release) return false;
    try {
      await this.execute(operationId, release);
      return true;
    } catch (err) {
      this.logger.warn(`nested ${op.kind} ${op.id} run inline: ${String(err)}; its own job takes it over`);
      return false;
    }
  }

  /**
   * The executor lock of an operation. A group deployment's may be held by the deployment that runs it inline
   * (runNested) for as long as that deployment takes: its job waits for the lock or the operation's end, rather than
   * spending its attempts on a 30 s timeout.
   */
  private async acquireFor(op: OperationEntity): Promise<Release | undefined> {
    if (op.kind !== OperationKind.DeploymentPut) return this.locks.acquire(op.lockKey);
    for (;;) {
      const release = await this.locks.tryAcquire(op.lockKey);
      if (release) return release;
      const now = await this.db.findOne(OperationEntity, { where: { id: op.id } });
      if (!now || now.isTerminal()) return undefined;
      await sleep(NESTED_LOCK_POLL_MS);
    }
  }

  /** Runs an operation whose lock is held (`release` frees it), routed to its kind's handler. */
  private async execute(operationId: string, release: Release): Promise<void> {
    try {
      const op = await this.db.findOne(OperationEntity, { where: { id: operationId } });
      if (!op || op.isTerminal()) return;
      const handler = this.handlerFor(op.kind);
      if (!handler) return;
      const ctx = new OperationContext(op, this.db, this.operations, this.logger, (id) => this.runNested(id));
      this.logger.log(`start ${op.kind} ${op.id} ${op.resourceId} correlationId=${op.correlationId ?? ''}`);
      const started = Date.now();
      ctx.startWatching();
      try {
        await handler.run(op, ctx);
      } finally {
        ctx.stopWatching();
      }
      this.logger.log(`done ${op.kind} ${op.id} in ${Date.now() - started} ms`);
    } catch (err) {
      if (err instanceof OperationSuperseded) {
        this.logger.log(err.message);
        return;
      }
      if (err instanceof OperationCanceled) {
        this.logger.log(err.message);
        await this.outcomes.cancel(operationId);
        return;
      }
      if (err instanceof ArmError) {
        this.logger.warn(`operation ${operationId} failed: ${err.code}: ${err.message}`);
        await this.outcomes.fail(operationId, err.toDetail());
        return;
      }
      throw err;
    } finally {
      await release();
    }
  }

  /** The handler of each kind; undefined for a kind that is never run (it is recorded ended when accepted). */
  private handlerFor(kind: OperationKind): OperationHandler | undefined {
    switch (kind) {
      case OperationKind.ClusterPut:
      case OperationKind.AgentPoolPut:
      case OperationKind.AgentPoolDelete:
      case OperationKind.AgentPoolUpgradeNodeImage:
      case OperationKind.AgentPoolDeleteMachines:
      case OperationKind.ClusterStart:
      case OperationKind.ClusterStop:
        return this.converge;
      case OperationKind.ClusterAbort:
        return this.abort;
      case OperationKind.ClusterDelete:
        return this.clusterDelete;
      case OperationKind.ResourceGroupDelete:
        return this.groupDelete;
      case OperationKind.ClusterRotateCertificates:
        return this.rotateCertificates;
      case OperationKind.ClusterRunCommand:
        return this.runCommand;
      case OperationKind.DeploymentWhatIf:
        return undefined; // recorded ended by the API, never queued
      case OperationKind.DeploymentPut:
      case OperationKind.SubscriptionDeploymentPut:
        return this.deployment;
      default:
        return assertNever(kind);
    }
  }
}
