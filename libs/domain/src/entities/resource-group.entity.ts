import type { SystemData } from '@cerulean/arm';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'resource_groups' })
export class ResourceGroupEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'subscription_id' }) subscriptionId!: string;
  /** Display casing of the last PUT (R1.3). */
  @Column('text') name!: string;
  @Column('text', { name: 'name_key' }) nameKey!: string;
  @Column('text') location!: string;
  @Column('jsonb') tags!: Record<string, string>;
  @Column('text', { name: 'managed_by', nullable: true }) managedBy!: string | null;
  @Column('text', { name: 'provisioning_state' }) provisioningState!: string;
  @Column('jsonb', { name: 'system_data' }) systemData!: SystemData;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
