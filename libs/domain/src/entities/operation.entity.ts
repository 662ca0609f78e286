import type { StoredError } from '../stored-error';
import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { OperationKind, OperationStatus, TERMINAL_OPERATION_STATUSES } from '../enums';

/** An async operation: the row the status URLs read and the job the worker runs (job id = `id`). */
@Entity({ name: 'operations' })
export class OperationEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'subscription_id' }) subscriptionId!: string;
  @Column('text') location!: string;
  @Column('text') kind!: OperationKind;
  @Column('text') status!: OperationStatus;
  /** The target resource's id in display casing; survives the resource's deletion. */
  @Column('text', { name: 'resource_id' }) resourceId!: string;
  @Column('uuid', { name: 'resource_group_id', nullable: true }) resourceGroupId!: string | null;
  @Column('uuid', { name: 'cluster_id', nullable: true }) clusterId!: string | null;
  @Column('uuid', { name: 'agent_pool_id', nullable: true }) agentPoolId!: string | null;
  /** One InProgress operation per lock key (a unique partial index enforces it): `cluster:<id>` (clusterLockKey), `rg:<id>`, `abort:<cluster id>` or `command:<uuid>`. */
  @Column('text', { name: 'lock_key' }) lockKey!: string;
  @Column('int', { name: 'percent_complete' }) percentComplete!: number;
  @Column('timestamptz', { name: 'start_time' }) startTime!: Date;
  @Column('timestamptz', { name: 'end_time', nullable: true }) endTime!: Date | null;
  @Column('jsonb', { nullable: true }) error!: StoredError | null;
  @Column('text', { name: 'api_version' }) apiVersion!: string;
  @Column('text', { name: 'correlation_id', nullable: true }) correlationId!: string | null;
  @Column('text', { name: 'created_by', nullable: true }) createdBy!: string | null;
  /** Set by an abort: the worker running this operation stops at its next step and ends it Canceled. */
  @Column('timestamptz', { name: 'cancel_requested_at', nullable: true }) cancelRequestedAt!: Date | null;
  /** For an abort: the operation it cancels. */
  @Column('uuid', { name: 'target_operation_id', nullable: true }) targetOperationId!: string | null;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;

  isTerminal(): boolean {
    return TERMINAL_OPERATION_STATUSES.includes(this.status);
  }
}
