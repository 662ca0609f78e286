import { MigrationInterface, QueryRunner } from 'typeorm';

export class MaintenanceConfigurations1764400000000 implements MigrationInterface {
  name = 'MaintenanceConfigurations1764400000000';

  async up(q: QueryRunner): Promise<void> {
    // AKS serves exactly three configuration names; the service refuses others before they get here.
    await q.query(`
      CREATE TABLE maintenance_configurations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        cluster_id uuid NOT NULL REFERENCES managed_clusters(id) ON DELETE CASCADE,
        name text NOT NULL,
        name_key text NOT NULL CHECK (name_key IN ('default', 'aksmanagedautoupgradeschedule', 'aksmanagednodeosupgradeschedule')),
        properties jsonb NOT NULL,
        system_data jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT maintenance_configurations_name_unique UNIQUE (cluster_id, name_key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE maintenance_configurations`);
  }
}
