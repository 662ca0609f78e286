import { ArmError } from '@cerulean/arm';
import { KubernetesVersionCatalog, NodeImageCatalog, VmSizeCatalog } from '@cerulean/catalog';
import { Env } from '@cerulean/config';
import { AgentPoolEntity, ManagedClusterEntity, ProvisioningState, ResourceGroupEntity } from '@cerulean/domain';
import { ControlPlaneRole, NODE_PROVIDER, NodeAgentClient, NodeHandle, NodeLabels, NodeProvider, NodeSpec, ProviderError } from '@cerulean/node-provider';
import { Inject, Injectable } from '@nestjs/common';
import { TransientError } from '../engine/errors';
import { OperationContext } from '../engine/operation-context';
import { nodeName, planPool, zoneFor } from '../planning/node-plan';
import { InstallationService } from './installation.service';

const versions = new KubernetesVersionCatalog();
const vmSizes = new VmSizeCatalog();

/** Runs `fn` over `items` with at most `limit` at once. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}

/** Provider failures: transient ones retry the job; the rest become the operation's ARM error. */
export function rethrowProviderError(err: unknown): never {
  if (err instanceof ProviderError) {
    if (err.transient) throw new TransientError(err.message, { cause: err });
    throw new ArmError(500, 'NodeProvisioningFailed', err.message, undefined, undefined, { cause: err });
  }
  throw err;
}

/**
 * Converges a cluster's Docker nodes to its pools' desired counts and tears clusters down. The only
 * place that turns cluster and pool rows into node specs.
 */
@Injectable()
export class NodeFleet {
  private readonly agents = new NodeAgentClient();
  private readonly nodeImages: NodeImageCatalog;

  constructor(
    @Inject(NODE_PROVIDER) private readonly provider: NodeProvider,
    private readonly env: Env,
    private readonly installation: InstallationService,
  ) {
    this.nodeImages = new NodeImageCatalog(undefined, env.NODE_IMAGE_REPOSITORY);
  }

  clusterLabels(cluster: ManagedClusterEntity, rg: ResourceGroupEntity): Record<string, string> {
    return {
      [NodeLabels.managed]: 'true',
      [NodeLabels.installation]: this.installation.id(),
      [NodeLabels.subscription]: cluster.subscriptionId,
      [NodeLabels.resourceGroup]: rg.name,
      [NodeLabels.cluster]: cluster.name,
      [NodeLabels.clusterId]: cluster.id,
    };
  }

  /** Every node of the cluster that Docker has, found by label. */
  listClusterNodes(clusterId: string): Promise<NodeHandle[]> {
    return this.provider.listNodes({ [NodeLabels.installation]: this.installation.id(), [NodeLabels.clusterId]: clusterId });
  }

  /**
   * Creates what is missing (lowest free instance numbers), waits until every desired node's agent is
   * Ready, then removes the surplus (highest numbers first). Pools in `Deleting` want 0 nodes.
   */
  async converge(ctx: OperationContext, cluster: ManagedClusterEntity, rg: ResourceGroupEntity, pools: AgentPoolEntity[]): Promise<void> {
    const labels = this.clusterLabels(cluster, rg);
    try {
      await this.provider.ensureNetwork(cluster.id, labels);
      // The control plane shares the cluster's labels but is no node of any pool.
      const observed = (await this.listClusterNodes(cluster.id)).filter((n) => n.labels[NodeLabels.role] !== ControlPlaneRole);
      const byPool = new Map<string, string[]>();
      for (const n of observed) {
        const key = n.labels[NodeLabels.pool] ?? '';
        byPool.set(key, [...(byPool.get(key) ?? []), n.name]);
      }
      const desired: NodeSpec[] = [];
      const toRemove: string[] = [];
      const poolNames = new Set(pools.map((p) => p.name));
      for (const pool of pools) {
        const want = pool.provisioningState === ProvisioningState.Deleting ? 0 : pool.count;
        const plan = planPool(pool.name, pool.vmssSuffix, want, byPool.get(pool.name) ?? []);
        for (const index of [...plan.keep, ...plan.create]) desired.push(this.nodeSpec(cluster, rg, pool, index, labels));
        toRemove.push(...plan.remove);
      }
      // Nodes of pools that no longer exist at all.
      for (const [pool, names] of byPool) if (!poolNames.has(pool)) toRemove.push(...names);

      const total = desired.length + toRemove.length;
      let done = 0;
      await ctx.assertActive();
      await eachLimited(desired, this.env.NODE_PARALLELISM, async (spec) => {
        await ctx.assertActive();
        const handle = await this.provider.ensureNode(spec);
        await this.waitReady(handle);
        done += 1;
        await ctx.progress(done, total);
      });
      await ctx.assertActive();
      await eachLimited(toRemove, this.env.NODE_PARALLELISM, async (name) => {
        await this.provider.removeNode(name);
        done += 1;
        await ctx.progress(done, total);
      });
      await ctx.flushProgress();
    } catch (err) {
      rethrowProviderError(err);
    }
  }

  /** Removes every node and the network of a cluster; safe to repeat. */
  async teardown(clusterId: string, ctx?: OperationContext): Promise<void> {
    try {
      const nodes = await this.listClusterNodes(clusterId);
      let done = 0;
      await eachLimited(nodes, this.env.NODE_PARALLELISM, async (n) => {
        await this.provider.removeNode(n.name);
        done += 1;
        await ctx?.progress(done, nodes.length + 1);
      });
      await this.provider.removeNetwork(clusterId);
    } catch (err) {
      rethrowProviderError(err);
    }
  }

  private nodeSpec(cluster: ManagedClusterEntity, rg: ResourceGroupEntity, pool: AgentPoolEntity, index: number, clusterLabels: Record<string, string>): NodeSpec {
    const name = nodeName(pool.name, pool.vmssSuffix, index);
    const zone = zoneFor(index, pool.availabilityZones);
    const image = this.nodeImages.find(pool.nodeImageVersion) ?? this.nodeImages.latest();
    const size = vmSizes.find(pool.vmSize);
    if (!size) throw new ArmError(500, 'InternalServerError', `VM size ${pool.vmSize} vanished from the catalog.`);
    const limits = vmSizes.limitsFor(size, this.env.NODE_CPU_FACTOR, this.env.NODE_MEMORY_FACTOR);
    const kubernetesVersion = versions.resolve(pool.orchestratorVersion) ?? pool.orchestratorVersion;
    return {
      name,
      clusterId: cluster.id,
      image: this.nodeImages.imageRef(image),
      zone,
      nanoCpus: limits.nanoCpus,
      memoryBytes: limits.memoryBytes,
      labels: {
        ...clusterLabels,
        [NodeLabels.pool]: pool.name,
        [NodeLabels.node]: name,
        [NodeLabels.zone]: zone,
        [NodeLabels.nodeImageVersion]: image.version,
        [NodeLabels.kubernetesVersion]: kubernetesVersion,
      },
      env: {
        CERULEAN_NODE_NAME: name,
        CERULEAN_CLUSTER: cluster.name,
        CERULEAN_CLUSTER_ID: cluster.id,
        CERULEAN_POOL: pool.name,
        CERULEAN_ZONE: zone,
        CERULEAN_VM_SIZE: size.name,
        CERULEAN_KUBERNETES_VERSION: kubernetesVersion,
        CERULEAN_NODE_LABELS: JSON.stringify({ ...pool.nodeLabels, 'kubernetes.azure.com/mode': pool.mode.toLowerCase() }),
        CERULEAN_NODE_TAINTS: JSON.stringify(pool.nodeTaints),
        CERULEAN_CAPACITY: JSON.stringify({ cpu: String(size.vCPUs), memory: `${size.memoryMiB}Mi`, pods: String(pool.maxPods) }),
      },
    };
  }

  private async waitReady(handle: NodeHandle): Promise<void> {
    if (!handle.agentUrl) throw new TransientError(`node ${handle.name} has no published agent port yet`);
    try {
      await this.agents.waitUntilReady(handle.agentUrl, { timeoutMs: this.env.NODE_READY_TIMEOUT_SECONDS * 1000 });
    } catch (err) {
      if (err instanceof ProviderError && (err.code === 'AgentNotReady' || err.code === 'AgentUnavailable')) {
        throw new ArmError(500, 'NodesNotReady', `Node ${handle.name} did not report Ready within ${this.env.NODE_READY_TIMEOUT_SECONDS} s: ${err.message}`);
      }
      throw err;
    }
  }
}
