import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** An application identity that obtains tokens with client credentials (Entra's service principal). */
@Entity({ name: 'service_principals' })
export class ServicePrincipalEntity {
  /** The object id (`oid` in tokens, `principalId` in role assignments). */
  @PrimaryColumn('uuid') id!: string;
  /** The application (client) id (`appid` in tokens, `client_id` at the token endpoint). */
  @Column('uuid', { name: 'app_id' }) appId!: string;
  @Column('uuid', { name: 'tenant_id' }) tenantId!: string;
  @Column('text', { name: 'display_name' }) displayName!: string;
  /** The principal created at first start (Owner at the root scope); at most one. */
  @Column('boolean', { name: 'is_bootstrap' }) isBootstrap!: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}

/** One client secret of a principal: only its salted scrypt hash is kept, plus the 3-character hint. */
@Entity({ name: 'service_principal_secrets' })
export class ServicePrincipalSecretEntity {
  @PrimaryColumn('uuid', { name: 'key_id' }) keyId!: string;
  @Column('uuid', { name: 'principal_id' }) principalId!: string;
  @Column('text', { name: 'secret_hash' }) secretHash!: string;
  @Column('text') hint!: string;
  @Column('text', { name: 'display_name', nullable: true }) displayName!: string | null;
  @Column('timestamptz', { name: 'start_at' }) startAt!: Date;
  @Column('timestamptz', { name: 'end_at' }) endAt!: Date;
}
