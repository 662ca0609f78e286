import { randomUUID } from 'node:crypto';
import { ArmError } from '@cerulean/arm';
import { EntityManager, In } from 'typeorm';
import { OperationEntity } from './entities';
import { OperationKind, OperationStatus } from './enums';
import { isUniqueViolation } from './query-errors';
import type { StoredError } from './stored-error';

export interface StartOperation {
  subscriptionId: string;
  location: string;
  kind: OperationKind;
  resourceId: string;
  lockKey: string;
  resourceGroupId?: string;
  clusterId?: string;
  agentPoolId?: string;
  apiVersion: string;
  correlationId?: string;
  createdBy?: string;
  /** For an abort: the operation it cancels. */
  targetOperationId?: string;
  /** The time the request arrived (R5.5). */
  startTime: Date;
}

/**
 * The lock key shared by a cluster and its pools: one mutating operation at a time (R12.1), and the executor
 * lock the worker and the health monitor take for the cluster.
 */
export const clusterLockKey = (clusterId: string): string => `cluster:${clusterId}`;

/** A running operation holds its lock key; this describes it for the 409 message (R12.1). */
export function operationNotAllowed(running: OperationEntity, targetKind: string, targetName: string): ArmError {
  return ArmError.conflict(
    'OperationNotAllowed',
    `Operation is not allowed because there's an in progress ${running.kind} operation (operation ID: ${running.id}) on the ${targetKind} ${targetName} ` +
      `started on UTC ${running.startTime.toISOString()}. Please wait for it to finish before starting a new operation.`,
  );
}

/** Reads and writes `operations` rows. Every method takes the transaction it must run in. */
export class OperationRepository {
  findInProgress(tx: EntityManager, lockKey: string): Promise<OperationEntity | null> {
    return tx.findOne(OperationEntity, { where: { lockKey, status: OperationStatus.InProgress } });
  }

  /**
   * Inserts the InProgress row. A concurrent writer that slipped past the caller's own check hits the
   * unique partial index and gets the same 409 as if it had been seen first.
   */
  async start(tx: EntityManager, s: StartOperation, describe: (running: OperationEntity) => ArmError): Promise<OperationEntity> {
    const running = await this.findInProgress(tx, s.lockKey);
    if (running) throw describe(running);
    const op = tx.create(OperationEntity, {
      id: randomUUID(),
      subscriptionId: s.subscriptionId,
      location: s.location,
      kind: s.kind,
      status: OperationStatus.InProgress,
      resourceId: s.resourceId,
      resourceGroupId: s.resourceGroupId ?? null,
      clusterId: s.clusterId ?? null,
      agentPoolId: s.agentPoolId ?? null,
      lockKey: s.lockKey,
      percentComplete: 0,
      startTime: s.startTime,
      endTime: null,
      error: null,
      apiVersion: s.apiVersion,
      correlationId: s.correlationId ?? null,
      createdBy: s.createdBy ?? null,
      cancelRequestedAt: null,
      targetOperationId: s.targetOperationId ?? null,
    });
    try {
      await tx.query('SAVEPOINT op_insert');
      await tx.insert(OperationEntity, op);
      await tx.query('RELEASE SAVEPOINT op_insert');
    } catch (err) {
      if (isUniqueViolation(err)) {
        await tx.query('ROLLBACK TO SAVEPOINT op_insert');
        const winner = await this.findInProgress(tx, s.lockKey);
        if (winner) throw describe(winner);
      }
      throw err;
    }
    return op;
  }

  /** Ends an operation: must run in the same transaction that sets the resource's provisioningState (R11.9). */
  async finish(tx: EntityManager, id: string, status: Exclude<OperationStatus, OperationStatus.InProgress>, error?: StoredError): Promise<boolean> {
    const res = await tx.update(
      OperationEntity,
      { id, status: OperationStatus.InProgress },
      { status, endTime: new Date(), error: error ?? null, ...(status === OperationStatus.Succeeded ? { percentComplete: 100 } : {}) },
    );
    return (res.affected ?? 0) > 0;
  }

  /** Cancels whatever runs on these clusters (their group is being deleted), with the reason. */
  async cancelOnClusters(tx: EntityManager, clusterIds: string[], error: StoredError): Promise<void> {
    if (clusterIds.length === 0) return;
    await tx.update(
      OperationEntity,
      { clusterId: In(clusterIds), status: OperationStatus.InProgress },
      { status: OperationStatus.Canceled, endTime: new Date(), error },
    );
  }

  /** The abort already started for `targetOperationId`, if any. */
  findAbortOf(tx: EntityManager, targetOperationId: string): Promise<OperationEntity | null> {
    return tx.findOne(OperationEntity, { where: { targetOperationId, kind: OperationKind.ClusterAbort } });
  }

  /** Asks the worker running `id` to stop; false when it is no longer running. */
  async requestCancel(tx: EntityManager, id: string, at: Date): Promise<boolean> {
    const res = await tx.update(OperationEntity, { id, status: OperationStatus.InProgress }, { cancelRequestedAt: at });
    return (res.affected ?? 0) > 0;
  }

  async setProgress(tx: EntityManager, id: string, percentComplete: number): Promise<void> {
    const pct = Math.max(0, Math.min(99, Math.floor(percentComplete)));
    await tx
      .createQueryBuilder()
      .update(OperationEntity)
      .set({ percentComplete: pct })
      .where('id = :id AND status = :s AND percent_complete < :pct', { id, s: OperationStatus.InProgress, pct })
      .execute();
  }
}
