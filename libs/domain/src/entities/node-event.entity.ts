import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { NodeEventType } from '../enums';

/** Something the platform noticed or did about one node on its own (not a user operation): e.g. a repair. */
@Entity({ name: 'node_events' })
export class NodeEventEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid', { name: 'cluster_id' }) clusterId!: string;
  @Column('text') pool!: string;
  @Column('text') node!: string;
  @Column('text') type!: NodeEventType;
  /** Short machine-readable cause, e.g. `ContainerExited`, `AgentUnreachable`, `ContainerMissing`. */
  @Column('text') reason!: string;
  @Column('text') message!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
