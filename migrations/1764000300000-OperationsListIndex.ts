import { MigrationInterface, QueryRunner } from 'typeorm';

/** The operations list (`…/locations/{location}/operations`): a subscription's operations in a location, newest first. */
export class OperationsListIndex1764000300000 implements MigrationInterface {
  name = 'OperationsListIndex1764000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX operations_subscription_location_time ON operations (subscription_id, location, start_time DESC, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX operations_subscription_location_time`);
  }
}
