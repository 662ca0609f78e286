import { MigrationInterface, QueryRunner } from 'typeorm';

/** Access control: role assignments (role definitions are Azure's built-ins, in code). */
export class RoleAssignments1764000100000 implements MigrationInterface {
  name = 'RoleAssignments1764000100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE role_assignments (
        id uuid PRIMARY KEY,
        scope text NOT NULL,
        scope_key text NOT NULL,
        role_definition_id uuid NOT NULL,
        principal_id uuid NOT NULL REFERENCES service_principals(id) ON DELETE CASCADE,
        principal_type text NOT NULL,
        description text,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX role_assignments_unique ON role_assignments (scope_key, role_definition_id, principal_id)`);
    await q.query(`CREATE INDEX role_assignments_principal ON role_assignments (principal_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE role_assignments`);
  }
}
