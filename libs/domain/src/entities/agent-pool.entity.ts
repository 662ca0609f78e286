import type { SystemData } from '@cerulean/arm';
import type { StoredError } from '../stored-error';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'agent_pools' })
export class AgentPoolEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'cluster_id' }) clusterId!: string;
  @Column('text') name!: string;
  @Column('text', { name: 'name_key' }) nameKey!: string;
  @Column('text') mode!: string;
  @Column('int') count!: number;
  @Column('text', { name: 'vm_size' }) vmSize!: string;
  @Column('text', { name: 'os_type' }) osType!: string;
  @Column('text', { name: 'os_sku' }) osSku!: string;
  @Column('int', { name: 'os_disk_size_gb' }) osDiskSizeGb!: number;
  @Column('int', { name: 'max_pods' }) maxPods!: number;
  @Column('text', { name: 'orchestrator_version' }) orchestratorVersion!: string;
  @Column('text', { name: 'current_orchestrator_version', nullable: true }) currentOrchestratorVersion!: string | null;
  @Column('text', { name: 'node_image_version' }) nodeImageVersion!: string;
  @Column('jsonb', { name: 'availability_zones' }) availabilityZones!: string[];
  @Column('boolean', { name: 'enable_auto_scaling' }) enableAutoScaling!: boolean;
  @Column('int', { name: 'min_count', nullable: true }) minCount!: number | null;
  @Column('int', { name: 'max_count', nullable: true }) maxCount!: number | null;
  @Column('jsonb', { name: 'node_labels' }) nodeLabels!: Record<string, string>;
  @Column('jsonb', { name: 'node_taints' }) nodeTaints!: string[];
  @Column('jsonb') tags!: Record<string, string>;
  @Column('jsonb', { name: 'upgrade_settings' }) upgradeSettings!: Record<string, unknown>;
  /** User-set properties the platform keeps but does not act on. */
  @Column('jsonb') properties!: Record<string, unknown>;
  /** The 8 digits in `aks-<pool>-<digits>-vmss00000N`; fixed for the pool's life. */
  @Column('text', { name: 'vmss_suffix' }) vmssSuffix!: string;
  /**
   * Nodes deleteMachines named and took out of `count`: the next converge removes these rather than the
   * highest-numbered; cleared when a converge of the cluster succeeds.
   */
  @Column('jsonb', { name: 'machines_to_delete', default: () => "'[]'::jsonb" }) machinesToDelete!: string[];
  @Column('text', { name: 'provisioning_state' }) provisioningState!: string;
  @Column('text', { name: 'power_state' }) powerState!: string;
  @Column('text') etag!: string;
  @Column('jsonb', { name: 'system_data' }) systemData!: SystemData;
  @Column('jsonb', { name: 'provisioning_error', nullable: true }) provisioningError!: StoredError | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
