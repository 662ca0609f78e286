import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One row: this installation's identity, stamped on every container it creates. */
@Entity({ name: 'installation' })
export class InstallationEntity {
  @PrimaryColumn('int') singleton!: number;
  @Column('uuid') id!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
