import { MigrationInterface, QueryRunner } from 'typeorm';

/** The machines AKS deleteMachines named: the pool's next converge removes them instead of its usual choice. */
export class AgentPoolMachinesToDelete1764500000000 implements MigrationInterface {
  name = 'AgentPoolMachinesToDelete1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agent_pools ADD COLUMN machines_to_delete jsonb NOT NULL DEFAULT '[]'::jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agent_pools DROP COLUMN machines_to_delete`);
  }
}
