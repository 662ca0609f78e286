import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

// Stored in command_results.state: never rename. The wire spelling is the run-command mapper's
// (apps/api/src/run-command/command-result.mapper.ts).
export enum CommandState {
  Pending = 'pending',
  Running = 'running',
  Succeeded = 'succeeded',
  Failed = 'failed',
}

/**
 * A command submitted with `managedClusters/{c}/runCommand`, and its result (`commandResults/{id}`).
 * `id` is also the id of the operation that runs it. The row goes with its cluster.
 */
@Entity({ name: 'command_results' })
export class CommandResultEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column('uuid', { name: 'cluster_id' }) clusterId!: string;
  @Column('text') command!: string;
  @Column('boolean', { name: 'has_context' }) hasContext!: boolean;
  /** The decoded `context` zip; cleared once the command has ended. */
  @Column('bytea', { nullable: true }) context!: Buffer | null;
  @Column('text') state!: CommandState;
  /** The node the command ran on. */
  @Column('text', { name: 'node_name', nullable: true }) nodeName!: string | null;
  @Column('int', { name: 'exit_code', nullable: true }) exitCode!: number | null;
  /** stdout and stderr as they came, cut to a bounded size (see Env.RUN_COMMAND_MAX_LOG_BYTES). */
  @Column('text') logs!: string;
  @Column('timestamptz', { name: 'started_at', nullable: true }) startedAt!: Date | null;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt!: Date | null;
  /** Why the command failed to run (state `failed`). */
  @Column('text', { nullable: true }) reason!: string | null;
  @Column('text', { name: 'created_by', nullable: true }) createdBy!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
