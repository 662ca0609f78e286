import { MigrationInterface, QueryRunner } from 'typeorm';

/** Abort (cancel requests, abort → target), and the health monitor's node events. */
export class DayTwoOperations1763900200000 implements MigrationInterface {
  name = 'DayTwoOperations1763900200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE operations ADD COLUMN cancel_requested_at timestamptz`);
    await q.query(`ALTER TABLE operations ADD COLUMN target_operation_id uuid REFERENCES operations(id) ON DELETE SET NULL`);
    await q.query(`
      CREATE TABLE node_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        cluster_id uuid NOT NULL REFERENCES managed_clusters(id) ON DELETE CASCADE,
        pool text NOT NULL,
        node text NOT NULL,
        type text NOT NULL,
        reason text NOT NULL,
        message text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX node_events_cluster_time ON node_events (cluster_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE node_events`);
    await q.query(`ALTER TABLE operations DROP COLUMN target_operation_id`);
    await q.query(`ALTER TABLE operations DROP COLUMN cancel_requested_at`);
  }
}
