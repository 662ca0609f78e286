import { MigrationInterface, QueryRunner } from 'typeorm';

export class ClusterCredentials1763900000000 implements MigrationInterface {
  name = 'ClusterCredentials1763900000000';

  async up(q: QueryRunner): Promise<void> {
    // Nullable: clusters created before this migration get a port (and credentials) on first use.
    await q.query(`ALTER TABLE managed_clusters ADD COLUMN api_server_port int CHECK (api_server_port BETWEEN 1 AND 65535)`);
    await q.query(`CREATE UNIQUE INDEX managed_clusters_api_server_port_unique ON managed_clusters (api_server_port)`);
    await q.query(`
      CREATE TABLE cluster_credentials (
        cluster_id uuid PRIMARY KEY REFERENCES managed_clusters(id) ON DELETE CASCADE,
        generation int NOT NULL CHECK (generation >= 1),
        ca_cert text NOT NULL,
        ca_key_sealed text NOT NULL,
        api_server_cert text NOT NULL,
        api_server_key_sealed text NOT NULL,
        admin_cert text NOT NULL,
        admin_key_sealed text NOT NULL,
        monitoring_cert text NOT NULL,
        monitoring_key_sealed text NOT NULL,
        master_key_id text NOT NULL,
        rotation_operation_id uuid,
        rotated_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE cluster_credentials`);
    await q.query(`DROP INDEX managed_clusters_api_server_port_unique`);
    await q.query(`ALTER TABLE managed_clusters DROP COLUMN api_server_port`);
  }
}
