import { ArmError } from '@cerulean/arm';
import { OperationEntity, OperationKind, OperationRepository } from '@cerulean/domain';
import { Injectable, Logger } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { DeploymentHandler } from '../deployments/deployment.handler';
import { AbortHandler } from '../handlers/abort.handler';
import { ClusterConvergeHandler } from '../handlers/cluster-converge.handler';
import { ClusterDeleteHandler } from '../handlers/cluster-delete.handler';
import { ResourceGroupDeleteHandler } from '../handlers/resource-group-delete.handler';
import { RotateCertificatesHandler } from '../handlers/rotate-certificates.handler';
import { RunCommandHandler } from '../handlers/run-command.handler';
import { ClusterLocks } from './cluster-locks.service';
import { OperationCanceled, OperationSuperseded } from './errors';
import { OperationContext } from './operation-context';
import { OutcomeRecorder } from './outcome.recorder';

/** What every handler is: it runs one operation, and ends it through the OutcomeRecorder (or throws). */
export interface OperationHandler {
  run(op: OperationEntity, ctx: OperationContext): Promise<void>;
}

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
    const release = await this.locks.acquire(first.lockKey);
    try {
      const op = await this.db.findOne(OperationEntity, { where: { id: operationId } });
      if (!op || op.isTerminal()) return;
      const handler = this.handlerFor(op.kind);
      if (!handler) return;
      const ctx = new OperationContext(op, this.db, this.operations, this.logger);
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
