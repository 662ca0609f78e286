import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763760000000 implements MigrationInterface {
  name = 'InitialSchema1763760000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE installation (
        singleton int PRIMARY KEY CHECK (singleton = 1),
        id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO installation (singleton, id) VALUES (1, gen_random_uuid())`);

    await q.query(`
      CREATE TABLE subscriptions (
        id uuid PRIMARY KEY,
        display_name text NOT NULL,
        tenant_id uuid NOT NULL,
        state text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE resource_groups (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        subscription_id uuid NOT NULL REFERENCES subscriptions(id),
        name text NOT NULL,
        name_key text NOT NULL,
        location text NOT NULL,
        tags jsonb NOT NULL DEFAULT '{}',
        managed_by text,
        provisioning_state text NOT NULL,
        system_data jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT resource_groups_name_unique UNIQUE (subscription_id, name_key)
      )`);

    await q.query(`
      CREATE TABLE managed_clusters (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        subscription_id uuid NOT NULL REFERENCES subscriptions(id),
        resource_group_id uuid NOT NULL REFERENCES resource_groups(id) ON DELETE CASCADE,
        name text NOT NULL,
        name_key text NOT NULL,
        location text NOT NULL,
        tags jsonb NOT NULL DEFAULT '{}',
        sku jsonb NOT NULL,
        identity jsonb,
        kind text,
        properties jsonb NOT NULL DEFAULT '{}',
        kubernetes_version text NOT NULL,
        current_kubernetes_version text,
        dns_prefix text NOT NULL,
        fqdn text NOT NULL,
        node_resource_group text NOT NULL,
        provisioning_state text NOT NULL,
        power_state text NOT NULL,
        etag text NOT NULL,
        system_data jsonb NOT NULL,
        provisioning_error jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT managed_clusters_name_unique UNIQUE (resource_group_id, name_key)
      )`);
    await q.query(`CREATE INDEX managed_clusters_subscription_idx ON managed_clusters (subscription_id, name_key)`);

    await q.query(`
      CREATE TABLE agent_pools (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        cluster_id uuid NOT NULL REFERENCES managed_clusters(id) ON DELETE CASCADE,
        name text NOT NULL,
        name_key text NOT NULL,
        mode text NOT NULL,
        count int NOT NULL CHECK (count >= 0),
        vm_size text NOT NULL,
        os_type text NOT NULL,
        os_sku text NOT NULL,
        os_disk_size_gb int NOT NULL,
        max_pods int NOT NULL,
        orchestrator_version text NOT NULL,
        current_orchestrator_version text,
        node_image_version text NOT NULL,
        availability_zones jsonb NOT NULL DEFAULT '[]',
        enable_auto_scaling boolean NOT NULL DEFAULT false,
        min_count int,
        max_count int,
        node_labels jsonb NOT NULL DEFAULT '{}',
        node_taints jsonb NOT NULL DEFAULT '[]',
        tags jsonb NOT NULL DEFAULT '{}',
        upgrade_settings jsonb NOT NULL DEFAULT '{}',
        properties jsonb NOT NULL DEFAULT '{}',
        vmss_suffix text NOT NULL,
        provisioning_state text NOT NULL,
        power_state text NOT NULL,
        etag text NOT NULL,
        system_data jsonb NOT NULL,
        provisioning_error jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT agent_pools_name_unique UNIQUE (cluster_id, name_key)
      )`);

    await q.query(`
      CREATE TABLE operations (
        id uuid PRIMARY KEY,
        subscription_id uuid NOT NULL,
        location text NOT NULL,
        kind text NOT NULL,
        status text NOT NULL CHECK (status IN ('InProgress', 'Succeeded', 'Failed', 'Canceled')),
        resource_id text NOT NULL,
        resource_group_id uuid,
        cluster_id uuid,
        agent_pool_id uuid,
        lock_key text NOT NULL,
        percent_complete int NOT NULL DEFAULT 0 CHECK (percent_complete BETWEEN 0 AND 100),
        start_time timestamptz NOT NULL,
        end_time timestamptz,
        error jsonb,
        api_version text NOT NULL,
        correlation_id text,
        created_by text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The Postgres half of "one mutating operation per cluster at a time" (R12.1).
    await q.query(`CREATE UNIQUE INDEX operations_one_in_progress_per_lock ON operations (lock_key) WHERE status = 'InProgress'`);
    await q.query(`CREATE INDEX operations_in_progress_idx ON operations (start_time) WHERE status = 'InProgress'`);
    await q.query(`CREATE INDEX operations_cluster_idx ON operations (cluster_id, start_time DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE operations`);
    await q.query(`DROP TABLE agent_pools`);
    await q.query(`DROP TABLE managed_clusters`);
    await q.query(`DROP TABLE resource_groups`);
    await q.query(`DROP TABLE subscriptions`);
    await q.query(`DROP TABLE installation`);
  }
}
