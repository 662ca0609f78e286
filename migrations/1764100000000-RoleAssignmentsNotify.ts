import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every change to role_assignments (by any writer, cascades included) is announced on the
 * `cerulean_role_assignments` channel with the principal's id, so API processes can cache each principal's
 * grants and drop them the moment they change.
 */
export class RoleAssignmentsNotify1764100000000 implements MigrationInterface {
  name = 'RoleAssignmentsNotify1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION cerulean_role_assignments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM pg_notify('cerulean_role_assignments', OLD.principal_id::text);
        ELSE
          PERFORM pg_notify('cerulean_role_assignments', NEW.principal_id::text);
          IF TG_OP = 'UPDATE' AND OLD.principal_id <> NEW.principal_id THEN
            PERFORM pg_notify('cerulean_role_assignments', OLD.principal_id::text);
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER role_assignments_changed AFTER INSERT OR UPDATE OR DELETE ON role_assignments
      FOR EACH ROW EXECUTE FUNCTION cerulean_role_assignments_changed()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER role_assignments_changed ON role_assignments`);
    await q.query(`DROP FUNCTION cerulean_role_assignments_changed()`);
  }
}
