import type { SystemData } from '@cerulean/arm';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * A planned maintenance configuration of a managed cluster (`managedClusters/{c}/maintenanceConfigurations/{name}`).
 * Stored as AKS accepted it; nothing schedules work by it yet. The row goes with its cluster.
 */
@Entity({ name: 'maintenance_configurations' })
export class MaintenanceConfigurationEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'cluster_id' }) clusterId!: string;
  /** The casing of the most recent PUT (R1.3). */
  @Column('text') name!: string;
  @Column('text', { name: 'name_key' }) nameKey!: string;
  /** `timeInWeek`, `notAllowedTime`, `maintenanceWindow` as validated (defaults filled in). */
  @Column('jsonb') properties!: Record<string, unknown>;
  @Column('jsonb', { name: 'system_data' }) systemData!: SystemData;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
