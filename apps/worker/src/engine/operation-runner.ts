import { ArmError } from '@cerulean/arm';
import {
  AgentPoolEntity, DeploymentEntity, DeploymentState, isDeploymentKind, ManagedClusterEntity, OperationEntity, OperationKind, OperationRepository, OperationStatus, ProvisioningState,
  ResourceGroupEntity, StoredError,
} from '@cerulean/domain';
import { newEtag } from '@cerulean/arm';
import { Injectable, Logger } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager, In, Not } from 'typeorm';
import { ClusterLocks } from './cluster-locks';
import { OperationCanceled, OperationSuperseded } from './errors';
import { OperationContext } from './operation-context';

export type OperationHandler = (op: OperationEntity, ctx: OperationContext) => Promise<void>;

/**
 * The operation engine: loads an operation, takes its cluster's executor lock, runs its handler, and
 * records a permanent failure on the operation and its resources in one transaction. Transient errors
 * propagate so BullMQ retries the job; the processor records the last one when attempts run out.
 */
@Injectable()
export class OperationRunner {
  private readonly logger = new Logger(OperationRunner.name);

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly operations: OperationRepository,
    private readonly locks: ClusterLocks,
  ) {}

  async run(operationId: string, handler: OperationHandler): Promise<void> {
    const first = await this.db.findOne(OperationEntity, { where: { id: operationId } });
    if (!first || first.isTerminal()) return; // an earlier attempt (or a cancel) already ended it
    const release = await this.locks.acquire(first.lockKey);
    try {
      const op = await this.db.findOne(OperationEntity, { where: { id: operationId } });
      if (!op || op.isTerminal()) return;
      const ctx = new OperationContext(op, this.db, this.operations, this.logger);
      this.logger.log(`start ${op.kind} ${op.id} ${op.resourceId} correlationId=${op.correlationId ?? ''}`);
      const started = Date.now();
      ctx.startWatching();
      try {
        await handler(op, ctx);
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
        await this.cancel(operationId);
        return;
      }
      if (err instanceof ArmError) {
        this.logger.warn(`operation ${operationId} failed: ${err.code}: ${err.message}`);
        await this.fail(operationId, err.toDetail());
        return;
      }
      throw err;
    } finally {
      await release();
    }
  }

  /** Ends the operation as Failed and marks what it was changing as Failed too (R11.9/R11.10). */
  async fail(operationId: string, error: StoredError): Promise<void> {
    await this.db.transaction(async (tx) => {
      const op = await tx.findOne(OperationEntity, { where: { id: operationId }, lock: { mode: 'pessimistic_write' } });
      if (!op || !(await this.operations.finish(tx, op.id, OperationStatus.Failed, error))) return;
      // A command changes nothing on its cluster; its result reads the operation's error (commandResults).
      if (op.kind === OperationKind.ClusterRunCommand) return;
      if (isDeploymentKind(op.kind)) {
        const running = In([DeploymentState.Accepted, DeploymentState.Running]);
        await tx.update(DeploymentEntity, { operationId: op.id, provisioningState: running }, { provisioningState: DeploymentState.Failed, error, plan: null, secureValuesDropped: true });
        return;
      }
      if (op.kind === OperationKind.ResourceGroupDelete && op.resourceGroupId) {
        await tx.update(ResourceGroupEntity, { id: op.resourceGroupId }, { provisioningState: ProvisioningState.Succeeded });
        await tx.update(ManagedClusterEntity, { resourceGroupId: op.resourceGroupId }, { provisioningState: ProvisioningState.Failed, provisioningError: error });
        return;
      }
      // An abort that failed leaves the resources to the operation it tried to cancel.
      if (!op.clusterId || op.kind === OperationKind.ClusterAbort) return;
      const unsettled = Not(In([ProvisioningState.Succeeded, ProvisioningState.Failed, ProvisioningState.Canceled]));
      if (op.agentPoolId) {
        await tx.update(AgentPoolEntity, { id: op.agentPoolId }, { provisioningState: ProvisioningState.Failed, provisioningError: error, etag: newEtag() });
      } else {
        await tx.update(AgentPoolEntity, { clusterId: op.clusterId, provisioningState: unsettled }, { provisioningState: ProvisioningState.Failed, etag: newEtag() });
        await tx.update(ManagedClusterEntity, { id: op.clusterId }, { provisioningState: ProvisioningState.Failed, provisioningError: error, etag: newEtag() });
      }
    });
  }

  /**
   * Ends an aborted operation as Canceled, and what it was changing as Canceled too (R12.2). The
   * handler has already removed what it half-made; what it finished stays.
   */
  async cancel(operationId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const op = await tx.findOne(OperationEntity, { where: { id: operationId }, lock: { mode: 'pessimistic_write' } });
      const error = { code: 'OperationCanceled', message: `The operation was canceled by an abort request.` };
      if (!op || !(await this.operations.finish(tx, op.id, OperationStatus.Canceled, error))) return false;
      if (!op.clusterId) return true;
      if (op.agentPoolId) {
        await tx.update(AgentPoolEntity, { id: op.agentPoolId }, { provisioningState: ProvisioningState.Canceled, etag: newEtag() });
        return true;
      }
      const unsettled = Not(In([ProvisioningState.Succeeded, ProvisioningState.Failed, ProvisioningState.Canceled]));
      await tx.update(AgentPoolEntity, { clusterId: op.clusterId, provisioningState: unsettled }, { provisioningState: ProvisioningState.Canceled, etag: newEtag() });
      await tx.update(ManagedClusterEntity, { id: op.clusterId }, { provisioningState: ProvisioningState.Canceled, etag: newEtag() });
      return true;
    });
  }

  /**
   * The cluster (and its group) an operation works on. When it is gone, its delete canceled this operation
   * first and this is a stale job: the operation ends Canceled and the result is undefined.
   */
  async clusterOf(op: OperationEntity): Promise<{ cluster: ManagedClusterEntity; rg: ResourceGroupEntity } | undefined> {
    const cluster = op.clusterId ? await this.db.findOne(ManagedClusterEntity, { where: { id: op.clusterId } }) : null;
    const rg = cluster ? await this.db.findOne(ResourceGroupEntity, { where: { id: cluster.resourceGroupId } }) : null;
    if (cluster && rg) return { cluster, rg };
    await this.db.transaction((tx) =>
      this.operations.finish(tx, op.id, OperationStatus.Canceled, { code: 'ResourceNotFound', message: 'The managed cluster no longer exists.' }),
    );
    return undefined;
  }

  /**
   * Ends a cluster operation as Succeeded in the same transaction that settles the cluster and its pools:
   * pools in Deleting are removed, the others become Succeeded with their current versions.
   */
  async succeedClusterChange(
    op: OperationEntity,
    settle: (tx: EntityManager, cluster: ManagedClusterEntity, pools: AgentPoolEntity[]) => Promise<void>,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (!(await this.operations.finish(tx, op.id, OperationStatus.Succeeded))) throw new OperationSuperseded(op.id);
      const cluster = op.clusterId ? await tx.findOne(ManagedClusterEntity, { where: { id: op.clusterId }, lock: { mode: 'pessimistic_write' } }) : null;
      if (!cluster) return;
      const pools = await tx.find(AgentPoolEntity, { where: { clusterId: cluster.id } });
      await settle(tx, cluster, pools);
    });
  }
}
