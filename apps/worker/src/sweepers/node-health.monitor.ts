import { Env } from '@cerulean/config';
import {
  AgentPoolEntity,
  AgentPoolRepository,
  ManagedClusterEntity,
  NodeEventEntity,
  NodeEventType,
  OperationRepository,
  PowerStateCode,
  ProvisioningState,
  ResourceGroupRepository,
  clusterLockKey,
} from '@cerulean/domain';
import { NODE_PROVIDER, NodeAgentClient, NodeHandle, NodeLabels, NodeProvider } from '@cerulean/node-provider';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager, In } from 'typeorm';
import { ClusterLocks } from '../engine/cluster-locks.service';
import { InstallationService } from '../handlers/installation.service';
import { NodeFleet } from '../handlers/node-fleet.service';
import { nodeName, planPool } from '../planning/node-plan';
import { PeriodicPass } from './periodic';

const AGENT_TIMEOUT_MS = 2000;

/**
 * Whether a pool has too many unhealthy nodes to repair them (a sick host, not a sick node). One failed node is
 * always repaired: in a pool of 1 or 2 it alone is over any sensible percentage, and leaving it would keep the
 * pool Succeeded with fewer running nodes than it claims.
 */
export function tooManyToRepair(unhealthy: number, count: number, maxUnhealthyPercent: number): boolean {
  return unhealthy > 1 && unhealthy * 100 > count * maxUnhealthyPercent;
}

/** Why a node that should exist is unhealthy, or undefined when it is fine (or not yet known to be bad). */
export interface NodeVerdict {
  reason: 'ContainerMissing' | 'ContainerNotRunning' | 'AgentUnreachable' | 'NodeNotReady';
  message: string;
}

/**
 * Auto-repair. Polls every node agent of every settled (Succeeded or Failed), running pool; a node whose container is gone or
 * not running, or whose agent has not been Ready for NODE_UNHEALTHY_AFTER_MS, is replaced (same name, same
 * pool) and both facts are recorded as node events. A pool with more than REPAIR_MAX_UNHEALTHY_PERCENT of
 * its nodes unhealthy is left alone (a sick Docker host must not cause a replacement storm; see
 * tooManyToRepair: one failed node is always repaired), and a cluster
 * is never repaired while a user operation holds it: repair takes the same executor lock operations take.
 */
@Injectable()
export class NodeHealthMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NodeHealthMonitor.name);
  private readonly agents = new NodeAgentClient();
  private readonly periodic = new PeriodicPass(this.logger, 'health check', [] as string[], () => this.pass());
  /** Since when each node's agent has failed to answer Ready (node name → epoch ms). */
  private readonly failingSince = new Map<string, number>();
  /** Pools whose repair is paused, so the pause is recorded once per episode. */
  private readonly paused = new Set<string>();
  /**
   * Per pool, the nodes found unhealthy on the previous pass. A node is replaced only when two passes in a row
   * find it unhealthy, so an outage that is still unfolding (two nodes dying a moment apart) is judged whole by
   * the 40 % rule instead of one node at a time.
   */
  private readonly suspects = new Map<string, Set<string>>();

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    @Inject(NODE_PROVIDER) private readonly provider: NodeProvider,
    private readonly fleet: NodeFleet,
    private readonly locks: ClusterLocks,
    private readonly operations: OperationRepository,
    private readonly pools: AgentPoolRepository,
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

  /** One pass over every cluster; returns the names of the nodes it replaced. */
  check(): Promise<string[]> {
    return this.periodic.run();
  }

  private async pass(): Promise<string[]> {
    const clusters = await this.db.find(ManagedClusterEntity, {
      where: {
        powerState: PowerStateCode.Running,
        provisioningState: In([ProvisioningState.Succeeded, ProvisioningState.Failed, ProvisioningState.Canceled]),
      },
    });
    if (clusters.length === 0) return [];
    const [nodes, pools] = await Promise.all([
      this.provider.listNodes({ [NodeLabels.installation]: this.installation.id() }),
      // A Failed pool too: an operation that failed on a node that died must not leave that node dead for good.
      this.pools.listByClusters(
        this.db,
        clusters.map((c) => c.id),
        { powerState: PowerStateCode.Running, provisioningState: In([ProvisioningState.Succeeded, ProvisioningState.Failed]) },
      ),
    ]);
    const repaired: string[] = [];
    for (const cluster of clusters) {
      const observed = nodes.filter((n) => n.labels[NodeLabels.clusterId] === cluster.id);
      repaired.push(
        ...(await this.checkCluster(
          cluster,
          pools.filter((p) => p.clusterId === cluster.id),
          observed,
        )),
      );
    }
    return repaired;
  }

  /** `pools`: the cluster's settled, running pools; `observed`: its containers. */
  private async checkCluster(cluster: ManagedClusterEntity, pools: AgentPoolEntity[], observed: NodeHandle[]): Promise<string[]> {
    const sick: { pool: AgentPoolEntity; index: number; name: string; verdict: NodeVerdict }[] = [];
    for (const pool of pools) {
      const mine = observed.filter((n) => n.labels[NodeLabels.pool] === pool.name);
      const plan = planPool(
        pool.name,
        pool.vmssSuffix,
        pool.count,
        mine.map((n) => n.name),
        [],
        // A deleteMachines that failed half-way left its machines out of the count: they are not repaired.
        pool.machinesToDelete,
      );
      const expected = [...plan.keep, ...plan.create].map((index) => ({ index, name: nodeName(pool.name, pool.vmssSuffix, index) }));
      const verdicts = await Promise.all(expected.map(async (e) => ({ ...e, verdict: await this.judge(mine.find((n) => n.name === e.name)) })));
      const unhealthy = verdicts.filter((v): v is typeof v & { verdict: NodeVerdict } => v.verdict !== undefined);
      const key = `${cluster.id}/${pool.name}`;
      if (tooManyToRepair(unhealthy.length, pool.count, this.env.REPAIR_MAX_UNHEALTHY_PERCENT)) {
        if (!this.paused.has(key)) {
          this.paused.add(key);
          await this.record(
            cluster.id,
            pool.name,
            unhealthy.map((u) => u.name).join(','),
            NodeEventType.RepairPaused,
            'TooManyUnhealthyNodes',
            `${unhealthy.length} of ${pool.count} nodes of pool ${pool.name} are unhealthy (more than ${this.env.REPAIR_MAX_UNHEALTHY_PERCENT} %): repair paused.`,
          );
        }
        continue;
      }
      this.paused.delete(key);
      const before = this.suspects.get(key) ?? new Set<string>();
      this.suspects.set(key, new Set(unhealthy.map((u) => u.name)));
      sick.push(...unhealthy.filter((u) => before.has(u.name)).map((u) => ({ pool, ...u })));
    }
    if (sick.length === 0) return [];

    const release = await this.locks.tryAcquire(clusterLockKey(cluster.id));
    if (!release) return []; // an operation is running on it; look again next pass
    try {
      if (await this.operations.findInProgress(this.db, clusterLockKey(cluster.id))) return [];
      const rg = await this.groups.findById(this.db, cluster.resourceGroupId);
      if (!rg) return [];
      const labels = this.fleet.clusterLabels(cluster, rg);
      const repaired: string[] = [];
      for (const s of sick) {
        const started = Date.now();
        await this.record(cluster.id, s.pool.name, s.name, NodeEventType.NodeNotReady, s.verdict.reason, s.verdict.message);
        try {
          await this.provider.removeNode(s.name);
          const handle = await this.provider.ensureNode(await this.fleet.withKubeCredential(this.fleet.nodeSpec(cluster, rg, s.pool, s.index, labels)));
          await this.fleet.waitReady(handle);
          this.failingSince.delete(s.name);
          // A node made again starts with a clean record: were it still a suspect, one unhealthy pass would have it
          // replaced at once, alone, even when it went down together with others (and the 40 % rule never weighed them).
          this.suspects.get(`${cluster.id}/${s.pool.name}`)?.delete(s.name);
          repaired.push(s.name);
          await this.record(
            cluster.id,
            s.pool.name,
            s.name,
            NodeEventType.NodeRepaired,
            s.verdict.reason,
            `Node ${s.name} was replaced and is Ready again after ${Date.now() - started} ms.`,
          );
        } catch (err) {
          await this.record(
            cluster.id,
            s.pool.name,
            s.name,
            NodeEventType.RepairFailed,
            s.verdict.reason,
            `Replacing node ${s.name} failed: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }
      return repaired;
    } finally {
      await release();
    }
  }

  /** A missing or stopped container is unhealthy at once; an unresponsive agent after NODE_UNHEALTHY_AFTER_MS. */
  private async judge(node: NodeHandle | undefined): Promise<NodeVerdict | undefined> {
    if (!node) return { reason: 'ContainerMissing', message: 'The node container does not exist.' };
    if (node.state !== 'running' || !node.agentUrl) {
      return { reason: 'ContainerNotRunning', message: `The node container is ${node.state}.` };
    }
    let problem: NodeVerdict;
    try {
      const status = await this.agents.status(node.agentUrl, AGENT_TIMEOUT_MS);
      const ready = status.conditions.find((c) => c.type === 'Ready');
      if (ready?.status === 'True') {
        this.failingSince.delete(node.name);
        return undefined;
      }
      problem = { reason: 'NodeNotReady', message: `The node reports Ready=${ready?.status ?? 'Unknown'} (${ready?.reason ?? 'no condition'}).` };
    } catch (err) {
      problem = { reason: 'AgentUnreachable', message: `The node agent does not answer: ${err instanceof Error ? err.message : String(err)}` };
    }
    const since = this.failingSince.get(node.name) ?? Date.now();
    this.failingSince.set(node.name, since);
    return Date.now() - since >= this.env.NODE_UNHEALTHY_AFTER_MS ? problem : undefined;
  }

  private async record(clusterId: string, pool: string, node: string, type: NodeEventType, reason: string, message: string): Promise<void> {
    this.logger.warn(`${type} ${node} (${reason}): ${message}`);
    await this.db.insert(NodeEventEntity, { clusterId, pool, node, type, reason, message });
  }
}
