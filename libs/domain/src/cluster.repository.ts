import { Injectable } from '@nestjs/common';
import { DataSource, DeepPartial, EntityManager, In } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AgentPoolRepository } from './agent-pool.repository';
import { AgentPoolEntity, ManagedClusterEntity, ResourceGroupEntity } from './entities';
import { EntityColumns } from './entity-columns';
import { PreparedQuery } from './prepared-query';
import { ResourceGroupRepository } from './resource-group.repository';

/** A cluster with its group and its pools (in the order they were made): what every cluster and pool request reads. */
export interface ClusterWithPools {
  rg: ResourceGroupEntity;
  cluster: ManagedClusterEntity;
  pools: AgentPoolEntity[];
}

/** What the one-round-trip read found: no group, the group without the cluster, or all of it. */
export type ClusterRead = { rg?: undefined; found?: undefined } | { rg: ResourceGroupEntity; found?: ClusterWithPools };

/** Reads and writes `managed_clusters` rows (with their group and pools where a read needs them). */
@Injectable()
export class ClusterRepository {
  /** Group, cluster and pools in one prepared query (the select lists come from the entities), built once. */
  private readonly byName: {
    rg: EntityColumns<ResourceGroupEntity>;
    cluster: EntityColumns<ManagedClusterEntity>;
    pool: EntityColumns<AgentPoolEntity>;
    query: PreparedQuery;
  };

  constructor(
    dataSource: DataSource,
    private readonly groups: ResourceGroupRepository,
    private readonly pools: AgentPoolRepository,
  ) {
    const rg = new EntityColumns(dataSource, ResourceGroupEntity, 'rg');
    const cluster = new EntityColumns(dataSource, ManagedClusterEntity, 'c');
    const pool = new EntityColumns(dataSource, AgentPoolEntity, 'p');
    const sql =
      `SELECT ${rg.select}, ${cluster.select}, ${pool.select} FROM resource_groups rg ` +
      `LEFT JOIN managed_clusters c ON c.resource_group_id = rg.id AND c.name_key = $3 ` +
      `LEFT JOIN agent_pools p ON p.cluster_id = c.id ` +
      `WHERE rg.subscription_id = $1 AND rg.name_key = $2 ORDER BY p.created_at ASC`;
    this.byName = { rg, cluster, pool, query: new PreparedQuery(sql) };
  }

  /** The hot read path (every GET of a cluster or a pool): group, cluster and pools in one round trip, names case-insensitive. */
  async readByName(tx: EntityManager, subscriptionId: string, rgName: string, name: string): Promise<ClusterRead> {
    const cols = this.byName;
    const rows = await cols.query.rows(tx, [subscriptionId.toLowerCase(), rgName.toLowerCase(), name.toLowerCase()]);
    const rg = rows[0] ? cols.rg.hydrate(rows[0]) : undefined;
    if (!rg) return {};
    const cluster = cols.cluster.hydrate(rows[0]);
    if (!cluster) return { rg };
    const pools = rows.map((row) => cols.pool.hydrate(row)).filter((p): p is AgentPoolEntity => p !== undefined);
    return { rg, found: { rg, cluster, pools } };
  }

  /** The group's cluster of that name (case-insensitive) with its pools; `lock` holds the cluster row to the end of the transaction. */
  async findInGroup(tx: EntityManager, rg: ResourceGroupEntity, name: string, lock = false): Promise<ClusterWithPools | undefined> {
    const cluster = await tx.findOne(ManagedClusterEntity, {
      where: { resourceGroupId: rg.id, nameKey: name.toLowerCase() },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (!cluster) return undefined;
    return { rg, cluster, pools: await this.pools.listByCluster(tx, cluster.id) };
  }

  findById(tx: EntityManager, id: string, lock = false): Promise<ManagedClusterEntity | null> {
    return tx.findOne(ManagedClusterEntity, { where: { id }, ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
  }

  /** The cluster and its group; undefined when either is gone (or, for an operation's `clusterId`, there is none). */
  async findWithGroup(tx: EntityManager, id: string | null): Promise<{ cluster: ManagedClusterEntity; rg: ResourceGroupEntity } | undefined> {
    const cluster = id ? await this.findById(tx, id) : null;
    const rg = cluster ? await this.groups.findById(tx, cluster.resourceGroupId) : null;
    return cluster && rg ? { cluster, rg } : undefined;
  }

  /** The group's clusters by name; `lock` holds their rows to the end of the transaction. */
  listInGroup(tx: EntityManager, resourceGroupId: string, lock = false): Promise<ManagedClusterEntity[]> {
    return tx.find(ManagedClusterEntity, {
      where: { resourceGroupId },
      order: { nameKey: 'ASC' },
      ...(lock ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
  }

  /** One page of a subscription's clusters (or of one group's), by name, with their groups and pools. */
  async page(tx: EntityManager, subscriptionId: string, rg: ResourceGroupEntity | undefined, offset: number, limit: number): Promise<ClusterWithPools[]> {
    const clusters = await tx.find(ManagedClusterEntity, {
      where: { subscriptionId: subscriptionId.toLowerCase(), ...(rg ? { resourceGroupId: rg.id } : {}) },
      order: { nameKey: 'ASC', id: 'ASC' },
      skip: offset,
      take: limit,
    });
    if (clusters.length === 0) return [];
    const rgs = rg ? [rg] : await this.groups.list(tx, subscriptionId);
    const pools = await this.pools.listByClusters(
      tx,
      clusters.map((c) => c.id),
    );
    const rgById = new Map(rgs.map((r) => [r.id, r]));
    return clusters.flatMap((cluster) => {
      const group = rgById.get(cluster.resourceGroupId);
      return group ? [{ rg: group, cluster, pools: pools.filter((p) => p.clusterId === cluster.id) }] : [];
    });
  }

  create(tx: EntityManager, fields: DeepPartial<ManagedClusterEntity>): Promise<ManagedClusterEntity> {
    return tx.save(tx.create(ManagedClusterEntity, fields));
  }

  save(tx: EntityManager, cluster: ManagedClusterEntity): Promise<ManagedClusterEntity> {
    return tx.save(cluster);
  }

  /** Sets the same fields on one cluster or several, without loading them. */
  async update(tx: EntityManager, ids: string | string[], changes: QueryDeepPartialEntity<ManagedClusterEntity>): Promise<void> {
    if (Array.isArray(ids) && ids.length === 0) return;
    await tx.update(ManagedClusterEntity, { id: Array.isArray(ids) ? In(ids) : ids }, changes);
  }
}
