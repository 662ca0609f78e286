import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Microsoft.Authorization/roleAssignments: a role granted to a principal at a scope (and below it). */
@Entity({ name: 'role_assignments' })
export class RoleAssignmentEntity {
  /** The assignment's name (a GUID chosen by the client). */
  @PrimaryColumn('uuid') id!: string;
  /** The scope as the client wrote it (`/`, a subscription, a resource group or a resource id). */
  @Column('text') scope!: string;
  /** Lower-cased scope without a trailing slash: what lookups and inheritance compare. */
  @Column('text', { name: 'scope_key' }) scopeKey!: string;
  @Column('uuid', { name: 'role_definition_id' }) roleDefinitionId!: string;
  @Column('uuid', { name: 'principal_id' }) principalId!: string;
  @Column('text', { name: 'principal_type' }) principalType!: string;
  @Column('text', { nullable: true }) description!: string | null;
  @Column('text', { name: 'created_by', nullable: true }) createdBy!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
