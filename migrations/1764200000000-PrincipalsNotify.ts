import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every deleted service principal is announced on the `cerulean_principals` channel with its id (an empty
 * payload after a TRUNCATE: all of them), so every API process refuses the principal's tokens at once.
 */
export class PrincipalsNotify1764200000000 implements MigrationInterface {
  name = 'PrincipalsNotify1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION cerulean_principals_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('cerulean_principals', OLD.id::text);
        ELSE
          PERFORM pg_notify('cerulean_principals', '');
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER service_principals_deleted AFTER DELETE ON service_principals
      FOR EACH ROW EXECUTE FUNCTION cerulean_principals_deleted()`);
    await q.query(`
      CREATE TRIGGER service_principals_truncated AFTER TRUNCATE ON service_principals
      FOR EACH STATEMENT EXECUTE FUNCTION cerulean_principals_deleted()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER service_principals_truncated ON service_principals`);
    await q.query(`DROP TRIGGER service_principals_deleted ON service_principals`);
    await q.query(`DROP FUNCTION cerulean_principals_deleted()`);
  }
}
