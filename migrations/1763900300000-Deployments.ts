import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * ARM template deployments (Microsoft.Resources/deployments) and their per-resource deployment operations.
 * template, parameters, plan and outputs are `json`, not `jsonb`: jsonb reorders object keys, and the order is part of
 * a template's meaning (objectKeys(), string() of an object, the order of outputs), as Azure keeps it.
 */
export class Deployments1763900300000 implements MigrationInterface {
  name = 'Deployments1763900300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE deployments (
        id uuid PRIMARY KEY,
        subscription_id uuid NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
        resource_group_id uuid REFERENCES resource_groups(id) ON DELETE CASCADE,
        name text NOT NULL,
        name_key text NOT NULL,
        location text,
        mode text NOT NULL,
        provisioning_state text NOT NULL,
        template json NOT NULL,
        template_hash text NOT NULL,
        parameters json NOT NULL,
        plan json,
        secure_values_dropped boolean NOT NULL DEFAULT false,
        outputs json,
        output_resources jsonb NOT NULL DEFAULT '[]',
        error jsonb,
        correlation_id text,
        operation_id uuid REFERENCES operations(id) ON DELETE SET NULL,
        timestamp timestamptz NOT NULL,
        duration_ms integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX deployments_rg_name ON deployments (resource_group_id, name_key) WHERE resource_group_id IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX deployments_sub_name ON deployments (subscription_id, name_key) WHERE resource_group_id IS NULL`);
    await q.query(`
      CREATE TABLE deployment_operations (
        id text PRIMARY KEY,
        deployment_id uuid NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
        seq integer NOT NULL,
        resource_id text NOT NULL,
        resource_type text NOT NULL,
        resource_name text NOT NULL,
        provisioning_operation text NOT NULL,
        provisioning_state text NOT NULL,
        status_code text,
        status_message jsonb,
        target_operation_id uuid,
        timestamp timestamptz NOT NULL,
        duration_ms integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX deployment_operations_deployment ON deployment_operations (deployment_id, seq)`);
    await q.query(`
      CREATE TABLE what_if_results (
        operation_id uuid PRIMARY KEY REFERENCES operations(id) ON DELETE CASCADE,
        result jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE what_if_results`);
    await q.query(`DROP TABLE deployment_operations`);
    await q.query(`DROP TABLE deployments`);
  }
}
