import type { SystemData } from '@cerulean/arm';
import type { StoredError } from '../stored-error';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'managed_clusters' })
export class ManagedClusterEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'subscription_id' }) subscriptionId!: string;
  @Column('uuid', { name: 'resource_group_id' }) resourceGroupId!: string;
  /** Display casing of the last PUT (R1.3). */
  @Column('text') name!: string;
  @Column('text', { name: 'name_key' }) nameKey!: string;
  @Column('text') location!: string;
  @Column('jsonb') tags!: Record<string, string>;
  @Column('jsonb') sku!: Record<string, unknown>;
  @Column('jsonb', { nullable: true }) identity!: Record<string, unknown> | null;
  @Column('text', { nullable: true }) kind!: string | null;
  /** User-set properties the platform keeps but does not act on (secrets stripped). */
  @Column('jsonb') properties!: Record<string, unknown>;
  /** As requested (`1.33`, `1.33.2` or resolved default). */
  @Column('text', { name: 'kubernetes_version' }) kubernetesVersion!: string;
  @Column('text', { name: 'current_kubernetes_version', nullable: true }) currentKubernetesVersion!: string | null;
  @Column('text', { name: 'dns_prefix' }) dnsPrefix!: string;
  @Column('text') fqdn!: string;
  /** Host port of the cluster's published API server, fixed at create time (null only for clusters older than it). */
  @Column('int', { name: 'api_server_port', nullable: true }) apiServerPort!: number | null;
  @Column('text', { name: 'node_resource_group' }) nodeResourceGroup!: string;
  @Column('text', { name: 'provisioning_state' }) provisioningState!: string;
  @Column('text', { name: 'power_state' }) powerState!: string;
  @Column('text') etag!: string;
  @Column('jsonb', { name: 'system_data' }) systemData!: SystemData;
  @Column('jsonb', { name: 'provisioning_error', nullable: true }) provisioningError!: StoredError | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
