import { ManagedClusterEntity, OperationEntity, ResourceGroupEntity } from '@cerulean/domain';
import { EntityManager } from 'typeorm';

/**
 * The cluster (and its group) an operation works on; undefined when it is gone, i.e. its delete canceled the
 * operation first and this is a stale job (the handler then records OutcomeRecorder.resourceGone).
 */
export async function findClusterOf(db: EntityManager, op: OperationEntity): Promise<{ cluster: ManagedClusterEntity; rg: ResourceGroupEntity } | undefined> {
  const cluster = op.clusterId ? await db.findOne(ManagedClusterEntity, { where: { id: op.clusterId } }) : null;
  const rg = cluster ? await db.findOne(ResourceGroupEntity, { where: { id: cluster.resourceGroupId } }) : null;
  return cluster && rg ? { cluster, rg } : undefined;
}
