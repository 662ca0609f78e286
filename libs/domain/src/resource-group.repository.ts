import { DeepPartial, EntityManager } from 'typeorm';
import { ResourceGroupEntity } from './entities';

/** Reads and writes `resource_groups` rows. Every method takes the transaction (or manager) it must run in. */
export class ResourceGroupRepository {
  findById(tx: EntityManager, id: string): Promise<ResourceGroupEntity | null> {
    return tx.findOne(ResourceGroupEntity, { where: { id } });
  }

  /** By name, case-insensitively (R1.2); `lock` holds the row to the end of the transaction. */
  findByName(tx: EntityManager, subscriptionId: string, name: string, lock = false): Promise<ResourceGroupEntity | null> {
    return tx.findOne(ResourceGroupEntity, {
      where: { subscriptionId: subscriptionId.toLowerCase(), nameKey: name.toLowerCase() },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  /** A subscription's groups by name; `page` cuts out one page. */
  list(tx: EntityManager, subscriptionId: string, page?: { offset: number; limit: number }): Promise<ResourceGroupEntity[]> {
    return tx.find(ResourceGroupEntity, {
      where: { subscriptionId: subscriptionId.toLowerCase() },
      order: { nameKey: 'ASC' },
      ...(page ? { skip: page.offset, take: page.limit } : {}),
    });
  }

  create(tx: EntityManager, fields: DeepPartial<ResourceGroupEntity>): Promise<ResourceGroupEntity> {
    return tx.save(tx.create(ResourceGroupEntity, fields));
  }

  save(tx: EntityManager, rg: ResourceGroupEntity): Promise<ResourceGroupEntity> {
    return tx.save(rg);
  }

  async delete(tx: EntityManager, id: string): Promise<void> {
    await tx.delete(ResourceGroupEntity, { id });
  }
}
