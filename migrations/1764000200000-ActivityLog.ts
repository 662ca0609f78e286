import { MigrationInterface, QueryRunner } from 'typeorm';

/** The activity log (Microsoft.Insights eventtypes/management/values). */
export class ActivityLog1764000200000 implements MigrationInterface {
  name = 'ActivityLog1764000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE activity_log (
        id uuid PRIMARY KEY,
        subscription_id uuid NOT NULL,
        resource_group text,
        resource_id text NOT NULL,
        resource_id_key text NOT NULL,
        resource_provider text NOT NULL,
        resource_type text NOT NULL,
        operation_name text NOT NULL,
        method text NOT NULL,
        status text NOT NULL,
        http_status int NOT NULL,
        correlation_id text NOT NULL,
        request_id text NOT NULL,
        client_request_id text,
        caller text NOT NULL,
        principal_id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        operation_id uuid,
        error jsonb,
        event_timestamp timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX activity_log_subscription_time ON activity_log (subscription_id, event_timestamp DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE activity_log`);
  }
}
