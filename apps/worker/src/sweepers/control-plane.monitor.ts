import { Env } from '@cerulean/config';
import { ManagedClusterEntity, OperationRepository, PowerStateCode, ProvisioningState, ResourceGroupRepository, clusterLockKey } from '@cerulean/domain';
import { ControlPlaneRole, NODE_PROVIDER, NodeHandle, NodeLabels, NodeProvider } from '@cerulean/node-provider';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { ClusterLocks } from '../engine/cluster-locks.service';
import { ControlPlane } from '../handlers/control-plane.service';
import { InstallationService } from '../handlers/installation.service';
import { PeriodicPass } from './periodic';

/**
 * Why a running cluster's control plane container needs the platform, or undefined when it does not: it runs, or
 * Docker's restart policy is bringing it back (`restarting`, back-off included).
 */
export function controlPlaneProblem(container: Pick<NodeHandle, 'state'> | undefined): string | undefined {
  if (!container) return 'the control plane container does not exist';
  return container.state === 'running' || container.state === 'restarting' ? undefined : `the control plane container is ${container.state}`;
}

/**
 * Brings back the control plane of a running cluster when nothing else will. A crash inside the container needs no
 * help: Docker's restart policy (`unless-stopped`) restarts it. Docker leaves alone a container stopped or killed
 * through its API (`docker kill`, `docker stop`) or removed, and the cluster's API would stay down for good while ARM
 * says Succeeded and Running. Such a control plane, seen down on two passes in a row (not one moment of a
 * transition), is made to run again by ControlPlane.ensure: the same container if it exists, the same etcd volume
 * in any case. Under the cluster's executor lock, never while an operation holds the cluster, like node auto-repair.
 * Succeeded clusters only: a Failed or Canceled one may have its control plane half-way through a change (an
 * upgrade, a certificate rotation) that is the next operation's to finish.
 */
@Injectable()
export class ControlPlaneMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ControlPlaneMonitor.name);
  private readonly periodic = new PeriodicPass(this.logger, 'control plane check', [] as string[], () => this.pass());
  /** Clusters whose control plane the previous pass found down. */
  private suspects = new Set<string>();

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    @Inject(NODE_PROVIDER) private readonly provider: NodeProvider,
    private readonly controlPlane: ControlPlane,
    private readonly locks: ClusterLocks,
    private readonly operations: OperationRepository,
    private readonly groups: ResourceGroupRepository,
    private readonly installation: InstallationService,
    private readonly env: Env,
  ) {}

  onApplicationBootstrap(): void {
    this.periodic.start(this.env.HEALTH_INTERVAL_MS);
  }

  onApplicationShutdown(): void {
    this.periodic.stop();
  }

  /** One pass over every running cluster; returns the names of the clusters whose control plane it brought back. */
  check(): Promise<string[]> {
    return this.periodic.run();
  }

  private async pass(): Promise<string[]> {
    const clusters = await this.db.find(ManagedClusterEntity, {
      where: { powerState: PowerStateCode.Running, provisioningState: ProvisioningState.Succeeded },
    });
    if (clusters.length === 0) {
      this.suspects.clear();
      return [];
    }
    const planes = await this.provider.listNodes({ [NodeLabels.installation]: this.installation.id(), [NodeLabels.role]: ControlPlaneRole });
    const down = new Map<string, string>();
    for (const c of clusters) {
      const problem = controlPlaneProblem(planes.find((p) => p.labels[NodeLabels.clusterId] === c.id));
      if (problem) down.set(c.id, problem);
    }
    const before = this.suspects;
    this.suspects = new Set(down.keys());
    const repaired: string[] = [];
    for (const cluster of clusters) {
      const problem = down.get(cluster.id);
      if (problem && before.has(cluster.id) && (await this.repair(cluster, problem))) repaired.push(cluster.name);
    }
    return repaired;
  }

  private async repair(cluster: ManagedClusterEntity, problem: string): Promise<boolean> {
    const release = await this.locks.tryAcquire(clusterLockKey(cluster.id));
    if (!release) return false; // an operation is running on it; look again next pass
    try {
      if (await this.operations.findInProgress(this.db, clusterLockKey(cluster.id))) return false;
      // Read again under the lock: an operation that ended since the pass began may have stopped or removed the cluster.
      const now = await this.db.findOne(ManagedClusterEntity, { where: { id: cluster.id } });
      if (!now || now.powerState !== PowerStateCode.Running || now.provisioningState !== ProvisioningState.Succeeded) return false;
      const rg = await this.groups.findById(this.db, now.resourceGroupId);
      if (!rg) return false;
      const started = Date.now();
      this.logger.warn(`cluster ${now.name}: ${problem}; starting it again`);
      await this.controlPlane.ensure(now, rg);
      this.suspects.delete(now.id);
      this.logger.warn(`cluster ${now.name}: control plane running and ready again after ${Date.now() - started} ms`);
      return true;
    } catch (err) {
      this.logger.error(`cluster ${cluster.name}: bringing the control plane back failed: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    } finally {
      await release();
    }
  }
}
