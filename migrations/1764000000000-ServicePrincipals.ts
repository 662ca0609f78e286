import { MigrationInterface, QueryRunner } from 'typeorm';

/** Identity: service principals and their client secrets (salted hashes only). */
export class ServicePrincipals1764000000000 implements MigrationInterface {
  name = 'ServicePrincipals1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE service_principals (
        id uuid PRIMARY KEY,
        app_id uuid NOT NULL UNIQUE,
        tenant_id uuid NOT NULL,
        display_name text NOT NULL,
        is_bootstrap boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX service_principals_one_bootstrap ON service_principals (is_bootstrap) WHERE is_bootstrap`);
    await q.query(`
      CREATE TABLE service_principal_secrets (
        key_id uuid PRIMARY KEY,
        principal_id uuid NOT NULL REFERENCES service_principals(id) ON DELETE CASCADE,
        secret_hash text NOT NULL,
        hint text NOT NULL,
        display_name text,
        start_at timestamptz NOT NULL,
        end_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX service_principal_secrets_principal ON service_principal_secrets (principal_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE service_principal_secrets`);
    await q.query(`DROP TABLE service_principals`);
  }
}
