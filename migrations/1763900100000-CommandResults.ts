import { MigrationInterface, QueryRunner } from 'typeorm';

export class CommandResults1763900100000 implements MigrationInterface {
  name = 'CommandResults1763900100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE command_results (
        id uuid PRIMARY KEY,
        cluster_id uuid NOT NULL REFERENCES managed_clusters(id) ON DELETE CASCADE,
        command text NOT NULL,
        has_context boolean NOT NULL,
        context bytea,
        state text NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed')),
        node_name text,
        exit_code int,
        logs text NOT NULL DEFAULT '',
        started_at timestamptz,
        finished_at timestamptz,
        reason text,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX command_results_cluster_idx ON command_results (cluster_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE command_results`);
  }
}
