import { InstallationEntity } from '@cerulean/domain';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';

/** This installation's id (made by the first migration), stamped on every node so sweeps stay in their lane. */
@Injectable()
export class InstallationService implements OnModuleInit {
  private value: string | undefined;

  constructor(@InjectEntityManager() private readonly db: EntityManager) {}

  async onModuleInit(): Promise<void> {
    const row = await this.db.findOne(InstallationEntity, { where: { singleton: 1 } });
    if (!row) throw new Error('The installation row is missing: run the migrations first (npm run migration:run).');
    this.value = row.id;
  }

  id(): string {
    if (!this.value) throw new Error('InstallationService used before init');
    return this.value;
  }
}
