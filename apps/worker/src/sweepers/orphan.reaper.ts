import { Env } from '@cerulean/config';
import { ManagedClusterEntity } from '@cerulean/domain';
import { NODE_PROVIDER, NodeLabels, NodeProvider } from '@cerulean/node-provider';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager, In } from 'typeorm';
import { InstallationService } from '../handlers/installation.service';
import { PeriodicPass } from './periodic';

/**
 * Removes nodes, volumes and networks of this installation whose cluster no longer exists in Postgres: nothing is
 * left behind, even after a failure mid-delete. A cluster row exists before any of its nodes, so a node
 * without one is an orphan.
 */
@Injectable()
export class OrphanReaper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OrphanReaper.name);
  private readonly periodic = new PeriodicPass(this.logger, 'orphan reap', [] as string[], () => this.pass());

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    @Inject(NODE_PROVIDER) private readonly provider: NodeProvider,
    private readonly installation: InstallationService,
    private readonly env: Env,
  ) {}

  onApplicationBootstrap(): void {
    this.periodic.start(Math.max(this.env.SWEEP_INTERVAL_MS * 6, 10_000));
  }

  onApplicationShutdown(): void {
    this.periodic.stop();
  }

  /** One pass; returns the ids of the deleted clusters whose leftovers it removed. */
  reap(): Promise<string[]> {
    return this.periodic.run();
  }

  private async pass(): Promise<string[]> {
    const mine = { [NodeLabels.installation]: this.installation.id() };
    const [nodes, networks, volumes] = await Promise.all([this.provider.listNodes(mine), this.provider.listNetworks(mine), this.provider.listVolumes(mine)]);
    const ids = new Set([...nodes, ...networks, ...volumes].map((x) => x.labels[NodeLabels.clusterId]).filter((x): x is string => !!x));
    if (ids.size === 0) return [];
    const alive = new Set((await this.db.find(ManagedClusterEntity, { where: { id: In([...ids]) }, select: { id: true } })).map((c) => c.id));
    const orphans = [...ids].filter((id) => !alive.has(id));
    for (const clusterId of orphans) {
      for (const n of nodes.filter((x) => x.labels[NodeLabels.clusterId] === clusterId)) await this.provider.removeNode(n.name);
      for (const v of volumes.filter((x) => x.labels[NodeLabels.clusterId] === clusterId)) await this.provider.removeVolume(v.name);
      const removed = await this.provider.removeNetwork(clusterId);
      this.logger.warn(
        removed
          ? `removed the nodes, volumes and network of deleted cluster ${clusterId}`
          : `removed the nodes and volumes of deleted cluster ${clusterId}; its network keeps stale endpoints in Docker and is tried again later`,
      );
    }
    return orphans;
  }
}
