import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/**
 * One row per cluster: its CA and the certificates it signed (public), and their private keys sealed with
 * the installation's master key (`*_key_sealed`, see libs/pki SecretBox). Never part of a cluster GET.
 */
@Entity({ name: 'cluster_credentials' })
export class ClusterCredentialsEntity {
  @PrimaryColumn('uuid', { name: 'cluster_id' }) clusterId!: string;
  /** 1 at create; +1 on every rotateClusterCertificates. The control plane container carries it as a label. */
  @Column('int') generation!: number;
  @Column('text', { name: 'ca_cert' }) caCert!: string;
  @Column('text', { name: 'ca_key_sealed' }) caKeySealed!: string;
  @Column('text', { name: 'api_server_cert' }) apiServerCert!: string;
  @Column('text', { name: 'api_server_key_sealed' }) apiServerKeySealed!: string;
  @Column('text', { name: 'admin_cert' }) adminCert!: string;
  @Column('text', { name: 'admin_key_sealed' }) adminKeySealed!: string;
  @Column('text', { name: 'monitoring_cert' }) monitoringCert!: string;
  @Column('text', { name: 'monitoring_key_sealed' }) monitoringKeySealed!: string;
  /** Which master key sealed the keys (its id, not the key). */
  @Column('text', { name: 'master_key_id' }) masterKeyId!: string;
  /** The rotation that made this generation: a retried rotation job does not rotate twice. */
  @Column('uuid', { name: 'rotation_operation_id', nullable: true }) rotationOperationId!: string | null;
  @Column('timestamptz', { name: 'rotated_at', nullable: true }) rotatedAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
