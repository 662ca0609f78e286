import { ArmError } from '@cerulean/arm';
import { clusterNetwork, KubernetesVersionCatalog, NodeImageCatalog, VmSizeCatalog } from '@cerulean/catalog';
import { Env } from '@cerulean/config';
import {
  AgentPoolEntity,
  ClusterCredentialRepository,
  ManagedClusterEntity,
  PowerStateCode,
  ProvisioningState,
  QUARANTINED,
  ResourceGroupEntity,
  rollingSettings,
  UPGRADE_STATUS_LABEL,
} from '@cerulean/domain';
import {
  NODE_AGENT_AUTH_VERSION,
  NODE_KUBE_DIR,
  NODE_PROVIDER,
  NODES_ALIAS,
  NodeAgentClient,
  NodeAgentCredentials,
  NodeHandle,
  NodeLabels,
  NodeProvider,
  NodeSpec,
  ProviderError,
  registryMirrors,
} from '@cerulean/node-provider';
import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { InjectEntityManager } from '@nestjs/typeorm';
import { issueKubeletServingCertificate, issueNodeClientCertificate } from '@cerulean/pki';
import { EntityManager } from 'typeorm';
import { OperationCanceled, OperationSuperseded, TransientError } from '../engine/errors';
import { OperationContext } from '../engine/operation-context';
import { nodeName, parseNodeIndex, planPool, zoneFor } from '../planning/node-plan';
import { InstallationService } from './installation.service';
import { KubeApiClient } from './kube-api.client';

const versions = new KubernetesVersionCatalog();
const vmSizes = new VmSizeCatalog();

/**
 * Runs `fn` over `items` with at most `limit` at once. After the first failure no new item starts, and
 * it rethrows only once every started item has settled: nothing keeps running behind a failed step.
 */
export async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failure && next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  });
  await Promise.all(lanes);
  if (failure) throw failure.error;
}

/** Provider failures: transient ones retry the job; the rest become the operation's ARM error. */
export function rethrowProviderError(err: unknown): never {
  if (err instanceof ProviderError) {
    if (err.transient) throw new TransientError(err.message, { cause: err });
    throw new ArmError(500, 'NodeProvisioningFailed', err.message, undefined, undefined, { cause: err });
  }
  throw err;
}

const isCancellation = (err: unknown): boolean => err instanceof OperationCanceled || err instanceof OperationSuperseded;

/** How long an operation tries again to drain a node an earlier upgrade quarantined. */
const QUARANTINED_RETRY_DRAIN_MS = 60_000;

/** A drain that ran out of time (a PodDisruptionBudget, pods that would not go): what AKS calls an undrainable node. */
const isUndrainable = (err: unknown): err is ArmError => err instanceof ArmError && (err.code === 'PodDrainFailure' || err.code === 'DrainTimeout');

/**
 * The error of an upgrade that quarantined nodes (undrainableNodeBehavior Cordon). AKS ends it Failed when every blocked
 * node has a surge node in its place, which is always so here (one surge node per old node in each batch). The code
 * stays the drain's (PodDrainFailure), so clients that match on it see the same cause.
 */
export function quarantineFailure(pool: string, quarantined: { node: string; error: ArmError }[]): ArmError {
  const names = quarantined.map((q) => q.node).sort();
  return new ArmError(
    500,
    quarantined[0].error.code,
    `${names.length} node(s) of agent pool ${pool} could not be drained and are quarantined (cordoned, labelled ` +
      `${UPGRADE_STATUS_LABEL}=${QUARANTINED}, each replaced by a surge node): ${names.join(', ')}. The other nodes were upgraded. ` +
      `${quarantined[0].error.message}`,
  );
}

export interface ConvergeOptions {
  /** Overrides every pool's power state (cluster stop/start). Default: the cluster's, then the pool's. */
  power?: PowerStateCode;
  /** Called when a pool's nodes all run its desired version and image, before the next pool rolls. */
  onPoolRolled?: (pool: AgentPoolEntity) => Promise<void>;
}

/**
 * Converges a cluster's Docker nodes to its pools and tears clusters down. The only place that turns
 * cluster and pool rows into node specs.
 */
@Injectable()
export class NodeFleet {
  private readonly agents = new NodeAgentClient();
  private readonly nodeImages: NodeImageCatalog;

  constructor(
    @Inject(NODE_PROVIDER) private readonly provider: NodeProvider,
    private readonly env: Env,
    private readonly installation: InstallationService,
    private readonly agentCredentials: NodeAgentCredentials,
    private readonly kube: KubeApiClient,
    private readonly credentials: ClusterCredentialRepository,
    @InjectEntityManager() private readonly db: EntityManager,
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
   * Makes Docker match the pools, in three phases:
   * 1. every pool at once: create missing nodes (lowest free numbers) and wait until Ready; stop the
   *    nodes of stopped pools; remove surplus nodes (highest numbers first) and nodes of deleted pools;
   * 2. one pool at a time: replace nodes whose version or image is not the pool's by rolling surge
   *    (see `roll`).
   * Canceled half-way, it removes the nodes it created that never became Ready, and stops.
   */
  async converge(
    ctx: OperationContext,
    cluster: ManagedClusterEntity,
    rg: ResourceGroupEntity,
    pools: AgentPoolEntity[],
    options: ConvergeOptions = {},
  ): Promise<void> {
    const labels = this.clusterLabels(cluster, rg);
    try {
      await this.provider.ensureNetwork(cluster.id, labels);
      // The control plane and the load balancers share the cluster's labels but are no nodes of any pool (nodes have no role).
      const observed = (await this.listClusterNodes(cluster.id)).filter((n) => n.labels[NodeLabels.role] === undefined);
      const byPool = new Map<string, NodeHandle[]>();
      for (const n of observed) {
        const key = n.labels[NodeLabels.pool] ?? '';
        byPool.set(key, [...(byPool.get(key) ?? []), n]);
      }
      const existing = new Set(observed.map((n) => n.name));
      // Nodes whose credentials are of an older generation than the cluster's (a certificate rotation) cannot talk to
      // its API server any more: they are made again in place, as AKS's rotate-certs recreates the nodes.
      const generation = (await this.credentials.load(this.db, cluster.id))?.generation;
      const reimage: string[] = [];
      // Nodes an upgrade quarantined (undrainableNodeBehavior Cordon) are no members of their pool's count: a kept
      // surge node took each one's place. Only the Kubernetes API knows them (its label); a cluster without nodes yet
      // (a create, whose API server may still be starting) has none.
      const quarantined = new Set(this.env.CONTROL_PLANE_API === 'kube-apiserver' && observed.length > 0 ? await this.kube.quarantinedNodes(cluster) : []);
      const ensure: NodeSpec[] = [];
      const stop: string[] = [];
      const toRemove: string[] = [];
      const gone: string[] = [];
      const rolls: { pool: AgentPoolEntity; stale: NodeHandle[]; held: NodeHandle[] }[] = [];
      const drainFirst = new Map<string, { node: NodeHandle; timeoutMs: number }>();
      const poolNames = new Set(pools.map((p) => p.name));
      for (const pool of pools) {
        const nodes = byPool.get(pool.name) ?? [];
        const want = pool.provisioningState === ProvisioningState.Deleting ? 0 : pool.count;
        const power = options.power ?? (cluster.powerState === PowerStateCode.Stopped ? PowerStateCode.Stopped : pool.powerState);
        const held = want > 0 ? nodes.filter((n) => quarantined.has(n.name)) : [];
        // A stop deletes the Node objects (and with them the quarantine and the pods it kept): their replacements
        // stand, so quarantined nodes go rather than come back as members.
        if (power === PowerStateCode.Stopped) toRemove.push(...held.map((n) => n.name));
        const plan = planPool(
          pool.name,
          pool.vmssSuffix,
          want,
          nodes.map((n) => n.name),
          held.map((n) => n.name),
          pool.machinesToDelete,
        );
        toRemove.push(...plan.remove);
        // A machine deleteMachines named whose container is gone already (the unhealthy node it was meant to clear)
        // still has its Node object: it goes with the others.
        gone.push(...pool.machinesToDelete.filter((name) => !existing.has(name)));
        // A scale-in (deleteMachines too) drains the nodes it removes first, as AKS does; a pool being deleted does not.
        if (want > 0) {
          const timeoutMs = rollingSettings(pool.upgradeSettings, pool.count).drainTimeoutMs;
          for (const n of nodes) if (plan.remove.includes(n.name)) drainFirst.set(n.name, { node: n, timeoutMs });
        }
        const kept = nodes.filter((n) => plan.keep.includes(parseNodeIndex(n.name, pool.name, pool.vmssSuffix) ?? -1));
        if (power === PowerStateCode.Stopped) {
          stop.push(...kept.map((n) => n.name));
          // A pool stopped on its own drains first (its pods move to the pools that run, PDBs hold), as AKS does; a
          // whole cluster stopping has nowhere to move them.
          const clusterStops = (options.power ?? cluster.powerState) === PowerStateCode.Stopped;
          if (!clusterStops) {
            const timeoutMs = rollingSettings(pool.upgradeSettings, pool.count).drainTimeoutMs;
            for (const n of kept) if (n.state === 'running') drainFirst.set(n.name, { node: n, timeoutMs });
          }
          continue;
        }
        for (const index of [...plan.keep, ...plan.create]) ensure.push(this.nodeSpec(cluster, rg, pool, index, labels));
        const desired = this.desiredNodeLabels(pool);
        const stale = kept.filter((n) => !sameLabels(n.labels, desired));
        if (stale.length > 0 || held.length > 0) rolls.push({ pool, stale, held });
        // A node rolled anyway gets its replacement with new credentials; the others are made again as they are.
        if (generation !== undefined) reimage.push(...kept.filter((n) => !stale.includes(n) && credentialsGenerationOf(n) !== generation).map((n) => n.name));
      }
      // Nodes of pools that no longer exist at all.
      for (const [pool, nodes] of byPool) if (!poolNames.has(pool)) toRemove.push(...nodes.map((n) => n.name));

      const total =
        ensure.filter((s) => !existing.has(s.name)).length +
        reimage.length +
        stop.length +
        toRemove.length +
        rolls.reduce((n, r) => n + r.stale.length + r.held.length, 0);
      let done = 0;
      const step = async (): Promise<void> => {
        done += 1;
        await ctx.progress(done, total);
      };
      await ctx.assertActive();
      if (reimage.length > 0) ctx.logger.log(`making ${reimage.length} node(s) of ${cluster.name} again with credentials generation ${generation}`);
      await eachLimited(ensure, this.env.NODE_PARALLELISM, async (spec) => {
        await ctx.assertActive();
        // Removed and made again at once, never counted as made here: a cancel (abort) cannot leave it removed.
        const remake = reimage.includes(spec.name);
        if (remake) await this.provider.removeNode(spec.name);
        await this.startReady(ctx, spec, !existing.has(spec.name), cluster);
        if (!existing.has(spec.name) || remake) await step();
      });
      await ctx.assertActive();
      await eachLimited(
        [...stop.map((name) => ({ name, remove: false })), ...toRemove.map((name) => ({ name, remove: true }))],
        this.env.NODE_PARALLELISM,
        async (n) => {
          const draining = drainFirst.get(n.name);
          if (draining) {
            await this.drain(ctx, cluster, draining.node, draining.timeoutMs).catch(async (err: unknown) => {
              await this.uncordon(cluster, draining.node); // it stays: back to work
              throw err;
            });
          }
          if (n.remove) await this.provider.removeNode(n.name);
          else await this.provider.stopNode(n.name);
          await step();
        },
      );
      // Stopped nodes leave the API too, as a deallocated AKS node does: what was bound to them goes with them, so on
      // start the controllers' pods are made again and standalone pods are gone (AKS's stop/start).
      await this.kube.deleteNodes(cluster, [...toRemove, ...stop, ...gone]);
      // A pool that quarantined nodes does not stop the others from rolling (Cordon); the operation fails at the end.
      let blocked: ArmError | undefined;
      for (const { pool, stale, held } of rolls) {
        const failure = await this.roll(ctx, cluster, rg, pool, stale, held, labels, step);
        if (failure) blocked ??= failure;
        else await options.onPoolRolled?.(pool);
      }
      await ctx.flushProgress();
      if (blocked) throw blocked;
    } catch (err) {
      rethrowProviderError(err);
    }
  }

  /**
   * Rolling replacement of `stale` nodes, `maxSurge` at a time: create the surge nodes on the pool's
   * version and image and wait until Ready; cordon and drain the old ones through their agents (within
   * drainTimeout); soak; delete them. The pool never has fewer Ready nodes than its count.
   *
   * With undrainableNodeBehavior Cordon, an old node that cannot be drained (PodDrainFailure) is quarantined instead
   * of failing the roll: it stays, cordoned and labelled, with its pods; its surge node stays as its replacement; the
   * roll goes on. `held` are nodes quarantined by an earlier operation (their replacements exist): each is drained
   * again and removed, or stays quarantined. Returns the error the operation ends with when nodes stay quarantined
   * (AKS: the upgrade and the cluster end Failed), undefined when every node rolled.
   */
  private async roll(
    ctx: OperationContext,
    cluster: ManagedClusterEntity,
    rg: ResourceGroupEntity,
    pool: AgentPoolEntity,
    stale: NodeHandle[],
    held: NodeHandle[],
    labels: Record<string, string>,
    step: () => Promise<void>,
  ): Promise<ArmError | undefined> {
    const settings = rollingSettings(pool.upgradeSettings, pool.count);
    const queue = [...stale].sort((a, b) => a.name.localeCompare(b.name));
    ctx.logger.log(`rolling ${queue.length} node(s) of pool ${pool.name} (${cluster.name}), surge ${settings.surge}`);
    const quarantined: { node: string; error: ArmError }[] = [];
    /** Drains `old`; a node that cannot be drained is quarantined when `keep` says so, else its failure is thrown. */
    const drainOrQuarantine = async (old: NodeHandle, keep: boolean, timeoutMs = settings.drainTimeoutMs): Promise<boolean> => {
      try {
        await this.drain(ctx, cluster, old, timeoutMs);
        return true;
      } catch (err) {
        if (!keep || !isUndrainable(err) || ctx.signal.aborted) throw err;
        ctx.logger.warn(`node ${old.name} of pool ${pool.name} cannot be drained (${err.message}): quarantined, the upgrade goes on`);
        await this.kube.quarantine(cluster, old.name);
        quarantined.push({ node: old.name, error: err });
        return false;
      }
    };
    const removeNodes = async (nodes: NodeHandle[]): Promise<void> => {
      await eachLimited(nodes, this.env.NODE_PARALLELISM, async (old) => {
        await this.provider.removeNode(old.name);
        await step();
      });
      await this.kube.deleteNodes(
        cluster,
        nodes.map((old) => old.name),
      );
    };
    // Quarantined nodes only need to drain now: whatever the behaviour, one that still cannot stays quarantined, since
    // its replacement is a member of the pool.
    if (held.length > 0 && this.env.CONTROL_PLANE_API === 'kube-apiserver') {
      await ctx.assertActive();
      const drained: NodeHandle[] = [];
      await eachLimited(held, this.env.NODE_PARALLELISM, async (old) => {
        // A short try: whatever operation this is (a scale, say) must not wait a whole drain timeout on a node
        // an earlier upgrade already found blocked.
        if (await drainOrQuarantine(old, true, Math.min(settings.drainTimeoutMs, QUARANTINED_RETRY_DRAIN_MS))) drained.push(old);
      });
      await removeNodes(drained);
    }
    const cordon = settings.undrainable === 'Cordon' && this.env.CONTROL_PLANE_API === 'kube-apiserver';
    while (queue.length > 0) {
      await ctx.assertActive();
      const batch = queue.splice(0, settings.surge);
      const inUse = new Set((await this.listClusterNodes(cluster.id)).filter((n) => n.labels[NodeLabels.pool] === pool.name).map((n) => n.name));
      const surge: NodeSpec[] = [];
      for (let index = 0; surge.length < batch.length; index++) {
        const name = nodeName(pool.name, pool.vmssSuffix, index);
        if (!inUse.has(name)) surge.push(this.nodeSpec(cluster, rg, pool, index, labels));
      }
      await eachLimited(surge, this.env.NODE_PARALLELISM, (spec) => this.startReady(ctx, spec, true, cluster));
      const drained: NodeHandle[] = [];
      try {
        await eachLimited(batch, this.env.NODE_PARALLELISM, async (old) => {
          if (await drainOrQuarantine(old, cordon)) drained.push(old);
        });
        await ctx.pause(settings.soakMs);
      } catch (err) {
        // Stopped before the old nodes went: they go back to work (not the quarantined).
        const kept = new Set(quarantined.map((q) => q.node));
        await eachLimited(
          batch.filter((old) => !kept.has(old.name)),
          this.env.NODE_PARALLELISM,
          (old) => this.uncordon(cluster, old),
        );
        // Blocked nodes with undrainableNodeBehavior Schedule: AKS makes a best-effort attempt to delete the surge
        // nodes, the blocked ones stay un-upgraded. A canceled or otherwise failed roll keeps them (they are Ready).
        if (isUndrainable(err) && !ctx.signal.aborted)
          await this.removeSurge(ctx, cluster, pool, new Set(surge.map((s) => s.name)), settings.drainTimeoutMs, removeNodes);
        throw err;
      }
      await removeNodes(drained);
    }
    return quarantined.length === 0 ? undefined : quarantineFailure(pool.name, quarantined);
  }

  /**
   * Best effort, after a roll failed on a node it could not drain: the surge nodes made for it go, each once drained
   * (within a short try; one that cannot be drained stays, as pods a budget protects may have moved there).
   */
  private async removeSurge(
    ctx: OperationContext,
    cluster: ManagedClusterEntity,
    pool: AgentPoolEntity,
    names: Set<string>,
    drainTimeoutMs: number,
    removeNodes: (nodes: NodeHandle[]) => Promise<void>,
  ): Promise<void> {
    const surge = (await this.listClusterNodes(cluster.id)).filter((n) => names.has(n.name));
    const drained: NodeHandle[] = [];
    await eachLimited(surge, this.env.NODE_PARALLELISM, async (node) => {
      try {
        await this.drain(ctx, cluster, node, Math.min(drainTimeoutMs, QUARANTINED_RETRY_DRAIN_MS));
        drained.push(node);
      } catch (err) {
        ctx.logger.warn(`surge node ${node.name} of pool ${pool.name} stays: it could not be drained (${(err as Error).message})`);
        await this.uncordon(cluster, node);
      }
    });
    await removeNodes(drained).catch((err: Error) => ctx.logger.warn(`surge nodes of pool ${pool.name} not removed: ${err.message}`));
  }

  /**
   * Creates (or starts) a node and waits until its agent is Ready; a node that dies meanwhile is made again (at most
   * NODE_RECREATE_ATTEMPTS times). A node this step created that never got there is removed when the operation is
   * canceled.
   */
  private async startReady(ctx: OperationContext, spec: NodeSpec, createdHere: boolean, cluster: ManagedClusterEntity): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const handle = await this.provider.ensureNode(await this.withKubeCredential(spec));
      try {
        const deadline = Date.now() + this.env.NODE_READY_TIMEOUT_SECONDS * 1000;
        await this.whileAlive(handle, ctx.signal, async (alive) => {
          await this.agentReady(handle, alive);
          // Ready in Kubernetes too: registered through the cluster's API server (a running pool is one kubectl sees).
          if (this.env.CONTROL_PLANE_API === 'kube-apiserver') await this.kube.waitNodeReady(cluster, spec.name, deadline, alive);
        });
        return;
      } catch (err) {
        if (err instanceof NodeDied && attempt <= NODE_RECREATE_ATTEMPTS && !ctx.signal.aborted) {
          // Its own node died under it (killed, OOM, host trouble): make it again rather than fail the operation.
          ctx.logger.warn(`${err.message} Recreating it (${attempt} of ${NODE_RECREATE_ATTEMPTS}).`);
          await this.provider.removeNode(spec.name);
          createdHere = true;
          continue;
        }
        if (createdHere && (ctx.signal.aborted || isCancellation(err))) await this.provider.removeNode(spec.name);
        throw ctx.signal.aborted ? ctx.signal.reason : err;
      }
    }
  }

  /**
   * Drains a node before it goes: through the cluster's Kubernetes API (cordon, then the eviction API, so
   * PodDisruptionBudgets hold) when it serves one, then through the node's agent. Both within `timeoutMs`.
   */
  private async drain(ctx: OperationContext, cluster: ManagedClusterEntity, node: NodeHandle, timeoutMs: number): Promise<void> {
    const url = (await this.provider.inspectNode(node.name))?.agentUrl;
    if (!url) return; // not running: nothing left on it to drain
    const deadline = Date.now() + timeoutMs;
    if (this.env.CONTROL_PLANE_API === 'kube-apiserver') await this.kube.drainNode(cluster, node.name, deadline, (ms) => ctx.pause(ms));
    for (;;) {
      try {
        const status = await this.agents.drain(url, this.agentToken(node));
        if (status.drained) return;
      } catch (err) {
        // An agent that stopped answering has nothing to drain any more.
        if (err instanceof ProviderError && err.code === 'AgentUnavailable') return;
        // A node from before agent credentials that refuses changes (its agent was given none) cannot be drained;
        // it is being replaced for exactly that. A node that has a credential and refuses it is a real fault.
        if (err instanceof ProviderError && err.code === 'AgentUnauthorized' && !hasAgentCredential(node)) {
          ctx.logger.warn(`node ${node.name} predates agent credentials and refuses to drain: replacing it undrained`);
          return;
        }
        throw err;
      }
      if (Date.now() > deadline) {
        throw new ArmError(500, 'DrainTimeout', `Node ${node.name} did not drain within ${Math.round(timeoutMs / 60_000)} minute(s).`);
      }
      await ctx.pause(500);
    }
  }

  private async uncordon(cluster: ManagedClusterEntity, node: NodeHandle): Promise<void> {
    const url = (await this.provider.inspectNode(node.name))?.agentUrl;
    if (url) await this.agents.uncordon(url, this.agentToken(node)).catch(() => undefined);
    if (this.env.CONTROL_PLANE_API === 'kube-apiserver') await this.kube.uncordon(cluster, node.name);
  }

  /** The credential the node was created with (nodes from before credentials ignore it and get replaced: see desiredNodeLabels). */
  private agentToken(node: NodeHandle): string {
    return this.agentCredentials.tokenFor(node.labels[NodeLabels.clusterId] ?? '', node.name);
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
      // After the containers: a volume still mounted cannot be removed. Its data (the control plane's etcd) goes with the cluster.
      for (const v of await this.provider.listVolumes({ [NodeLabels.installation]: this.installation.id(), [NodeLabels.clusterId]: clusterId }))
        await this.provider.removeVolume(v.name);
      if (!(await this.provider.removeNetwork(clusterId))) {
        ctx?.logger.warn(`the network of cluster ${clusterId} keeps stale endpoints in Docker (no container attached): left to the orphan reaper`);
      }
    } catch (err) {
      rethrowProviderError(err);
    }
  }

  /**
   * The labels that say which version and image a node of `pool` must run, and that it holds an agent credential:
   * a node from before credentials (its agent takes changes from anyone) is stale, and rolls like an upgrade.
   */
  private desiredNodeLabels(pool: AgentPoolEntity): Record<string, string> {
    return {
      [NodeLabels.agentAuth]: NODE_AGENT_AUTH_VERSION,
      [NodeLabels.kubernetesVersion]: versions.resolve(pool.orchestratorVersion) ?? pool.orchestratorVersion,
      [NodeLabels.nodeImageVersion]: (this.nodeImages.find(pool.nodeImageVersion) ?? this.nodeImages.latest()).version,
    };
  }

  nodeSpec(cluster: ManagedClusterEntity, rg: ResourceGroupEntity, pool: AgentPoolEntity, index: number, clusterLabels: Record<string, string>): NodeSpec {
    const name = nodeName(pool.name, pool.vmssSuffix, index);
    const zone = zoneFor(index, pool.availabilityZones);
    const image = this.nodeImages.find(pool.nodeImageVersion) ?? this.nodeImages.latest();
    const size = vmSizes.find(pool.vmSize);
    if (!size) throw new ArmError(500, 'InternalServerError', `VM size ${pool.vmSize} vanished from the catalog.`);
    const limits = vmSizes.limitsFor(size, this.env.NODE_CPU_FACTOR, this.env.NODE_MEMORY_FACTOR);
    const kubernetesVersion = versions.resolve(pool.orchestratorVersion) ?? pool.orchestratorVersion;
    const network = clusterNetwork(cluster.properties);
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
        ...this.desiredNodeLabels(pool),
      },
      env: {
        CERULEAN_NODE_NAME: name,
        CERULEAN_CLUSTER: cluster.name,
        CERULEAN_CLUSTER_ID: cluster.id,
        CERULEAN_POOL: pool.name,
        CERULEAN_ZONE: zone,
        CERULEAN_VM_SIZE: size.name,
        CERULEAN_KUBERNETES_VERSION: kubernetesVersion,
        // The pod network (routes to the other nodes' pod ranges stay inside it; kube-proxy's --cluster-cidr) and the
        // kubelet's cluster DNS.
        CERULEAN_POD_CIDR: network.podCidr,
        CERULEAN_DNS_SERVICE_IP: network.dnsServiceIP,
        CERULEAN_NODE_LABELS: JSON.stringify({ ...pool.nodeLabels, 'kubernetes.azure.com/mode': pool.mode.toLowerCase() }),
        CERULEAN_NODE_TAINTS: JSON.stringify(pool.nodeTaints),
        CERULEAN_CAPACITY: JSON.stringify({ cpu: String(size.vCPUs), memory: `${size.memoryMiB}Mi`, pods: String(pool.maxPods) }),
        CERULEAN_LOCATION: cluster.location,
        CERULEAN_NODE_RESOURCE_GROUP: cluster.nodeResourceGroup,
        CERULEAN_CONTAINER_RUNTIME: this.env.NODE_CONTAINER_RUNTIME,
        ...(this.env.REGISTRY_PORT ? { CERULEAN_REGISTRY_MIRRORS: JSON.stringify(registryMirrors(this.env.REGISTRY_PORT)) } : {}),
      },
      containerRuntime: this.env.NODE_CONTAINER_RUNTIME === 'containerd',
      // How LoadBalancer Services' load balancers find the running nodes (see NODES_ALIAS).
      aliases: [NODES_ALIAS],
      // A file, not an environment variable: `docker inspect` and the node's processes list the environment.
      files: [this.agentCredentials.tokenFile(cluster.id, name)],
    };
  }

  /**
   * The node's spec with its Kubernetes API credential: the cluster CA and a client certificate `system:node:<name>`
   * (group `system:nodes`) and the kubelet's serving certificate (SAN: the node name), issued now, as files written
   * before the node starts. Nothing is stored: a node gets new ones whenever it is (re)started by the platform.
   */
  async withKubeCredential(spec: NodeSpec): Promise<NodeSpec> {
    const creds = await this.credentials.load(this.db, spec.clusterId);
    if (!creds) return spec;
    const [cert, serving] = await Promise.all([issueNodeClientCertificate(creds.ca, spec.name), issueKubeletServingCertificate(creds.ca, spec.name)]);
    return {
      ...spec,
      labels: { ...spec.labels, [NodeLabels.credentialsGeneration]: String(creds.generation) },
      files: [
        ...(spec.files ?? []),
        { path: `${NODE_KUBE_DIR}/ca.crt`, content: creds.ca.certPem, mode: 0o644 },
        { path: `${NODE_KUBE_DIR}/node.crt`, content: cert.certPem, mode: 0o644 },
        { path: `${NODE_KUBE_DIR}/node.key`, content: cert.keyPem, mode: 0o600 },
        { path: `${NODE_KUBE_DIR}/kubelet.crt`, content: serving.certPem, mode: 0o644 },
        { path: `${NODE_KUBE_DIR}/kubelet.key`, content: serving.keyPem, mode: 0o600 },
      ],
    };
  }

  /**
   * Waits until the node's agent is Ready; gives up at once when `signal` aborts, and with NodeDied as soon as the
   * container itself is gone or has exited (it will never be Ready: waiting out NODE_READY_TIMEOUT_SECONDS is waste).
   */
  waitReady(handle: NodeHandle, signal?: AbortSignal): Promise<void> {
    return this.whileAlive(handle, signal, (alive) => this.agentReady(handle, alive));
  }

  private async agentReady(handle: NodeHandle, signal: AbortSignal): Promise<void> {
    if (!handle.agentUrl) throw new TransientError(`node ${handle.name} has no published agent port yet`);
    try {
      await this.agents.waitUntilReady(handle.agentUrl, { timeoutMs: this.env.NODE_READY_TIMEOUT_SECONDS * 1000, signal });
    } catch (err) {
      if (err instanceof ProviderError && (err.code === 'AgentNotReady' || err.code === 'AgentUnavailable')) {
        throw new ArmError(500, 'NodesNotReady', `Node ${handle.name} did not report Ready within ${this.env.NODE_READY_TIMEOUT_SECONDS} s: ${err.message}`);
      }
      throw err;
    }
  }

  /**
   * Runs `work` (a wait for the node) with a signal that aborts when `signal` does or when the node's container is
   * gone or has exited; then NodeDied is what fails. Every wait for a node to come up runs through this, so a node
   * killed at any point of its start (before its agent answers, or before the cluster's API sees it Ready) is noticed
   * within NODE_WATCH_INTERVAL_MS.
   */
  private async whileAlive<T>(handle: NodeHandle, signal: AbortSignal | undefined, work: (alive: AbortSignal) => Promise<T>): Promise<T> {
    const watch = new AbortController();
    const either = signal ? AbortSignal.any([signal, watch.signal]) : watch.signal;
    let died: NodeDied | undefined;
    const watcher = (async () => {
      while (!either.aborted) {
        await sleep(NODE_WATCH_INTERVAL_MS, undefined, { signal: either }).catch(() => undefined);
        if (either.aborted) return;
        // A Docker hiccup says nothing about the node: keep waiting for it.
        const now = await this.provider.inspectNode(handle.name).catch(() => handle);
        if (!now || DEAD_STATES.has(now.state)) {
          died = new NodeDied(handle.name, now?.state ?? 'missing');
          watch.abort(died);
        }
      }
    })();
    try {
      return await work(either);
    } catch (err) {
      if (died && !signal?.aborted) throw died;
      throw err;
    } finally {
      watch.abort();
      await watcher;
    }
  }
}

/** How often a wait for a node's agent looks at its container, and how often an operation makes a node that keeps dying again. */
const NODE_WATCH_INTERVAL_MS = 1000;
export const NODE_RECREATE_ATTEMPTS = 2;
// `restarting` is Docker bringing it back (restart policy): still worth waiting for.
const DEAD_STATES = new Set<NodeHandle['state'] | undefined>(['exited', 'dead', 'removing']);

/** A node's container went away or exited while an operation waited for it to become Ready. */
export class NodeDied extends ArmError {
  constructor(
    readonly node: string,
    readonly state: string,
  ) {
    super(500, 'NodesNotReady', `Node ${node} stopped (container ${state}) before it reported Ready.`);
    this.name = 'NodeDied';
  }
}

const hasAgentCredential = (node: NodeHandle): boolean => node.labels[NodeLabels.agentAuth] === NODE_AGENT_AUTH_VERSION;

/** The credentials generation a node was made with (nodes from before the label have the first one). */
const credentialsGenerationOf = (node: NodeHandle): number => Number(node.labels[NodeLabels.credentialsGeneration] ?? 1);

const sameLabels = (actual: Record<string, string>, desired: Record<string, string>): boolean => Object.entries(desired).every(([k, v]) => actual[k] === v);
