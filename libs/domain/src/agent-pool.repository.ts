import { DeepPartial, EntityManager, FindOptionsWhere, In } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AgentPoolEntity } from './entities';

/** Reads and writes `agent_pools` rows. Every method takes the transaction (or manager) it must run in. */
export class AgentPoolRepository {
  /** A cluster's pools in the order they were made (the order GET lists them in); `where` narrows them. */
  listByCluster(tx: EntityManager, clusterId: string, where: FindOptionsWhere<AgentPoolEntity> = {}): Promise<AgentPoolEntity[]> {
    return tx.find(AgentPoolEntity, { where: { ...where, clusterId }, order: { createdAt: 'ASC' } });
  }

  /** The pools of several clusters at once, in the order they were made. */
  async listByClusters(tx: EntityManager, clusterIds: string[], where: FindOptionsWhere<AgentPoolEntity> = {}): Promise<AgentPoolEntity[]> {
    if (clusterIds.length === 0) return [];
    return tx.find(AgentPoolEntity, { where: { ...where, clusterId: In(clusterIds) }, order: { createdAt: 'ASC' } });
  }

  create(tx: EntityManager, fields: DeepPartial<AgentPoolEntity>): Promise<AgentPoolEntity> {
    return tx.save(tx.create(AgentPoolEntity, fields));
  }

  save(tx: EntityManager, pool: AgentPoolEntity): Promise<AgentPoolEntity> {
    return tx.save(pool);
  }

  /** Sets fields of one pool without loading it. */
  async update(tx: EntityManager, id: string, changes: QueryDeepPartialEntity<AgentPoolEntity>): Promise<void> {
    await tx.update(AgentPoolEntity, { id }, changes);
  }

  /** Sets the provisioningState of every pool of the cluster (a cluster-wide delete). */
  async setStateOfCluster(tx: EntityManager, clusterId: string, provisioningState: string): Promise<void> {
    await tx.update(AgentPoolEntity, { clusterId }, { provisioningState });
  }
}
