import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One entry of the activity log: a write, delete or action request, who made it, and how it ended. */
@Entity({ name: 'activity_log' })
export class ActivityLogEntity {
  /** eventDataId. */
  @PrimaryColumn('uuid') id!: string;
  /** Null for a tenant-level entry (root-scope role assignments, service principals). */
  @Column('uuid', { name: 'subscription_id', nullable: true }) subscriptionId!: string | null;
  @Column('text', { name: 'resource_group', nullable: true }) resourceGroup!: string | null;
  /** The resource the request acted on (its id as the client wrote it). */
  @Column('text', { name: 'resource_id' }) resourceId!: string;
  @Column('text', { name: 'resource_id_key' }) resourceIdKey!: string;
  @Column('text', { name: 'resource_provider' }) resourceProvider!: string;
  @Column('text', { name: 'resource_type' }) resourceType!: string;
  /** The ARM action, e.g. Microsoft.ContainerService/managedClusters/write. */
  @Column('text', { name: 'operation_name' }) operationName!: string;
  @Column('text') method!: string;
  /** Accepted (a long-running operation started), Succeeded or Failed. */
  @Column('text') status!: string;
  @Column('int', { name: 'http_status' }) httpStatus!: number;
  @Column('text', { name: 'correlation_id' }) correlationId!: string;
  @Column('text', { name: 'request_id' }) requestId!: string;
  @Column('text', { name: 'client_request_id', nullable: true }) clientRequestId!: string | null;
  /** The caller's application id (as Azure shows a service principal). */
  @Column('text') caller!: string;
  @Column('uuid', { name: 'principal_id' }) principalId!: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId!: string;
  /** The long-running operation the request started, when it started one. */
  @Column('uuid', { name: 'operation_id', nullable: true }) operationId!: string | null;
  @Column('jsonb', { nullable: true }) error!: { code: string; message: string } | null;
  @Column('timestamptz', { name: 'event_timestamp' }) eventTimestamp!: Date;
}
