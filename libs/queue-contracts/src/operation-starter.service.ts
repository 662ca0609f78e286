import { ArmError, managedClusterId } from '@cerulean/arm';
import {
  AgentPoolEntity,
  clusterLockKey,
  ManagedClusterEntity,
  OperationEntity,
  OperationKind,
  operationNotAllowed,
  OperationRepository,
  OperationStatus,
  ResourceGroupEntity,
  StartOperation,
} from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { OperationQueue } from './operation-queue.service';

/** The request an operation is started for: what its row records about who asked, when and how (the API's ArmCall fits). */
export interface OperationRequest {
  apiVersion: string;
  /** The time the request arrived (R5.5). */
  receivedAt: Date;
  caller: { id: string };
  context: { correlationId: string };
}

/** What an operation works on and how it locks; the rest of its row comes from the request. */
export type OperationTarget = Omit<StartOperation, 'apiVersion' | 'correlationId' | 'createdBy' | 'startTime'>;

/** An operation on a cluster that must not hold the cluster's lock (an abort, a command): its own key and 409 message. */
export interface OwnLock {
  key: string;
  targetOperationId?: string;
  describe: (running: OperationEntity) => ArmError;
}

/**
 * The one way an operation is started: one transaction writes the desired state and the InProgress row (a second
 * operation on the same lock key is a 409, R12.1); only after commit is the job enqueued, so the worker never sees
 * an operation that was rolled back. If the process dies in between, the operation sweeper enqueues it.
 */
@Injectable()
export class OperationStarter {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly operations: OperationRepository,
    private readonly queue: OperationQueue,
  ) {}

  /**
   * Runs `work` in one transaction, then enqueues the operation it returns: one it started, or the running one a
   * repeated request joins (R14.2; job id = operation id, so that adds nothing twice). None, or one that ended
   * already, is not enqueued.
   */
  async run<T extends { operation?: OperationEntity }>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    const result = await this.db.transaction(work);
    const op = result.operation;
    if (op && op.status === OperationStatus.InProgress) await this.queue.enqueue(op.kind, op.id, op.correlationId ?? undefined);
    return result;
  }

  /** Inserts the InProgress row for the request; `describe` words the 409 when the lock key is taken. */
  start(tx: EntityManager, target: OperationTarget, request: OperationRequest, describe: (running: OperationEntity) => ArmError): Promise<OperationEntity> {
    return this.operations.start(
      tx,
      {
        ...target,
        apiVersion: request.apiVersion,
        correlationId: request.context.correlationId,
        createdBy: request.caller.id,
        startTime: request.receivedAt,
      },
      describe,
    );
  }

  /**
   * An operation on a cluster, or on one of its pools: it holds the cluster's lock key, so anything running on the
   * cluster or any of its pools is a 409 naming that (R12.1), unless `lock` gives the operation a key of its own.
   */
  startOnCluster(
    tx: EntityManager,
    on: { rg: ResourceGroupEntity; cluster: ManagedClusterEntity; pool?: AgentPoolEntity },
    kind: OperationKind,
    request: OperationRequest,
    lock?: OwnLock,
  ): Promise<OperationEntity> {
    const { rg, cluster, pool } = on;
    const resourceId = managedClusterId(cluster.subscriptionId, rg.name, cluster.name) + (pool ? `/agentPools/${pool.name}` : '');
    return this.start(
      tx,
      {
        subscriptionId: cluster.subscriptionId,
        location: cluster.location,
        kind,
        resourceId,
        resourceGroupId: rg.id,
        clusterId: cluster.id,
        agentPoolId: pool?.id,
        lockKey: lock?.key ?? clusterLockKey(cluster.id),
        targetOperationId: lock?.targetOperationId,
      },
      request,
      lock?.describe ??
        ((running) =>
          running.agentPoolId && running.agentPoolId !== pool?.id
            ? operationNotAllowed(running, 'agent pool', running.resourceId.split('/').pop() ?? '')
            : operationNotAllowed(running, pool ? 'agent pool' : 'managed cluster', pool ? pool.name : cluster.name)),
    );
  }
}
