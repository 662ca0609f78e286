import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The activity log also records tenant-level writes (role assignments at the root scope, service principals
 * created, deleted or given new secrets): those entries belong to no subscription.
 */
export class TenantActivityLog1764300000000 implements MigrationInterface {
  name = 'TenantActivityLog1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE activity_log ALTER COLUMN subscription_id DROP NOT NULL');
    await q.query('CREATE INDEX activity_log_tenant_idx ON activity_log (event_timestamp DESC) WHERE subscription_id IS NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX activity_log_tenant_idx');
    await q.query('DELETE FROM activity_log WHERE subscription_id IS NULL');
    await q.query('ALTER TABLE activity_log ALTER COLUMN subscription_id SET NOT NULL');
  }
}
