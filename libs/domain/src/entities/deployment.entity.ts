import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { StoredError } from '../stored-error';

/**
 * An ARM template deployment (Microsoft.Resources/deployments). `plan` holds the processed template while it runs
 * (it may contain secure parameter values): it is dropped when the run ends and `secureValuesDropped` says so.
 */
@Entity({ name: 'deployments' })
export class DeploymentEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'subscription_id' }) subscriptionId!: string;
  /** Null for a subscription-scope deployment. */
  @Column('uuid', { name: 'resource_group_id', nullable: true }) resourceGroupId!: string | null;
  @Column('text') name!: string;
  @Column('text', { name: 'name_key' }) nameKey!: string;
  /** Subscription-scope deployments only. */
  @Column('text', { nullable: true }) location!: string | null;
  @Column('text') mode!: string;
  @Column('text', { name: 'provisioning_state' }) provisioningState!: string;
  // json, not jsonb: key order is kept (objectKeys(), string() of objects, outputs order), see the migration.
  @Column('json') template!: object;
  @Column('text', { name: 'template_hash' }) templateHash!: string;
  /** ARM's `properties.parameters` view: secure values reduced to their type. */
  @Column('json') parameters!: object;
  @Column('json', { nullable: true }) plan!: object | null;
  @Column('boolean', { name: 'secure_values_dropped' }) secureValuesDropped!: boolean;
  @Column('json', { nullable: true }) outputs!: object | null;
  @Column('jsonb', { name: 'output_resources' }) outputResources!: { id: string }[];
  @Column('jsonb', { nullable: true }) error!: StoredError | null;
  @Column('text', { name: 'correlation_id', nullable: true }) correlationId!: string | null;
  @Column('uuid', { name: 'operation_id', nullable: true }) operationId!: string | null;
  /** When the deployment (re)started or last changed state, as ARM's `timestamp`. */
  @Column('timestamptz') timestamp!: Date;
  @Column('int', { name: 'duration_ms', nullable: true }) durationMs!: number | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** One resource a deployment touched (ARM's DeploymentOperation). */
@Entity({ name: 'deployment_operations' })
export class DeploymentOperationEntity {
  @PrimaryColumn('text') id!: string;
  @Column('uuid', { name: 'deployment_id' }) deploymentId!: string;
  @Column('int') seq!: number;
  @Column('text', { name: 'resource_id' }) resourceId!: string;
  @Column('text', { name: 'resource_type' }) resourceType!: string;
  @Column('text', { name: 'resource_name' }) resourceName!: string;
  /** Create, Update, Delete, Read (ARM's ProvisioningOperation). */
  @Column('text', { name: 'provisioning_operation' }) provisioningOperation!: string;
  @Column('text', { name: 'provisioning_state' }) provisioningState!: string;
  /** HTTP status of the resource's PUT/DELETE as ARM reports it (`OK`, `Created`, `BadRequest`, ...). */
  @Column('text', { name: 'status_code', nullable: true }) statusCode!: string | null;
  @Column('jsonb', { name: 'status_message', nullable: true }) statusMessage!: object | null;
  /** The cluster / agent pool operation this resource started. */
  @Column('uuid', { name: 'target_operation_id', nullable: true }) targetOperationId!: string | null;
  @Column('timestamptz') timestamp!: Date;
  @Column('int', { name: 'duration_ms', nullable: true }) durationMs!: number | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}

/** The WhatIfOperationResult of a what-if, served by its operation's result URL. */
@Entity('what_if_results')
export class WhatIfResultEntity {
  @PrimaryColumn('uuid', { name: 'operation_id' }) operationId!: string;
  @Column('jsonb') result!: object;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
