import { Env } from '@cerulean/config';
import {
  AgentPoolMode,
  AgentPoolRepository,
  ClusterRepository,
  CommandResultEntity,
  CommandState,
  ManagedClusterEntity,
  OperationEntity,
  PowerStateCode,
  ProvisioningState,
} from '@cerulean/domain';
import {
  COMMAND_IMAGE_PATH,
  LocalRegistry,
  NODE_PROVIDER,
  NodeAgentClient,
  NodeHandle,
  NodeLabels,
  NodeProvider,
  ProviderError,
  readyCondition,
} from '@cerulean/node-provider';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { TransientError } from '../engine/errors';
import { OperationContext } from '../engine/operation-context';
import { CommandOutcome, OutcomeRecorder } from '../engine/outcome.recorder';
import { CommandPod, type PodEnd } from './command-pod';
import { KubeApiClient } from './kube-api.client';
import { NodeFleet } from './node-fleet.service';

/** The zip's name in the working directory while it is unpacked (dot-named: unlikely to clash with its content). */
const CONTEXT_ZIP = '.cerulean-context.zip';
const AGENT_STATUS_TIMEOUT_MS = 2000;
const CLEANUP_TIMEOUT_MS = 10_000;

/** `/tmp/cerulean-command-<32 hex>`: one fresh directory per command; /tmp exists in every node image. */
export const commandWorkingDir = (commandId: string): string => `/tmp/cerulean-command-${commandId.replace(/-/g, '')}`;

/**
 * Picks where a command runs: the first node, in pool creation order then by name, of a System pool
 * (not being deleted) whose container runs and whose agent reports Ready and schedulable. That is
 * where AKS would place its command pod: System pools always have a node, and cordoned nodes are
 * being drained away.
 */
export function chooseCommandNode(systemPools: string[], nodes: { name: string; pool: string; running: boolean }[]): string[] {
  return nodes
    .filter((n) => n.running && systemPools.includes(n.pool))
    .sort((a, b) => systemPools.indexOf(a.pool) - systemPools.indexOf(b.pool) || a.name.localeCompare(b.name))
    .map((n) => n.name);
}

/**
 * cluster.run-command: runs `sh -c <command>` once, as AKS does in a pod of the cluster (namespace aks-command, with
 * kubectl and cluster-admin rights; see command-pod.ts), or with `docker exec` in a node where the cluster has no
 * Kubernetes API or there is no registry; in a fresh working directory holding the unpacked context. It stores exit
 * code, output and times. The command runs at most once: a retry that finds it started (the worker died mid-command)
 * follows its pod to the end if there is one, and otherwise reports it interrupted instead of running it again. Every
 * outcome is recorded on the row and the operation together; no error leaves either open.
 */
@Injectable()
export class RunCommandHandler {
  private readonly logger = new Logger(RunCommandHandler.name);
  private readonly agents = new NodeAgentClient();

  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly clusters: ClusterRepository,
    private readonly pools: AgentPoolRepository,
    @Inject(NODE_PROVIDER) private readonly provider: NodeProvider,
    private readonly fleet: NodeFleet,
    private readonly outcomes: OutcomeRecorder,
    private readonly env: Env,
    private readonly kube: KubeApiClient,
    private readonly registry: LocalRegistry,
  ) {}

  async run(op: OperationEntity, ctx: OperationContext): Promise<void> {
    const row = await this.db.findOne(CommandResultEntity, { where: { id: op.id } });
    if (!row) return this.outcomes.settleCommand(op, { state: CommandState.Failed, reason: 'The managed cluster was deleted before the command ran.' });
    if (row.state === CommandState.Succeeded || row.state === CommandState.Failed) {
      const { state, logs } = row;
      return this.outcomes.settleCommand(op, {
        state,
        logs,
        exitCode: row.exitCode ?? undefined,
        reason: row.reason ?? undefined,
        finishedAt: row.finishedAt ?? undefined,
      });
    }
    if (row.state === CommandState.Running) {
      // A worker that stopped while the command's pod ran: the pod runs on; wait for it rather than call it lost.
      const attached = await this.reattach(row);
      if (attached) {
        await attached.pod.remove();
        return this.outcomes.settleCommand(op, this.podOutcome(attached.end, row.nodeName ?? ''));
      }
      return this.outcomes.settleCommand(op, {
        state: CommandState.Failed,
        logs: row.logs,
        reason: 'The command was interrupted (the worker running it stopped) and may have run in part. It is not run again; submit it anew if needed.',
      });
    }
    const cluster = await this.clusters.findById(this.db, row.clusterId);
    const refusal = !cluster
      ? 'The managed cluster was deleted before the command ran.'
      : cluster.provisioningState === ProvisioningState.Deleting
        ? 'The managed cluster is being deleted.'
        : cluster.powerState === PowerStateCode.Stopped
          ? 'The managed cluster is stopped.'
          : undefined;
    if (!cluster || refusal) return this.outcomes.settleCommand(op, { state: CommandState.Failed, reason: refusal });

    const node = await this.pickNode(cluster);
    if (!node) {
      return this.outcomes.settleCommand(op, {
        state: CommandState.Failed,
        reason: `No node of a System agent pool of managed cluster '${cluster.name}' is running and Ready to run the command.`,
      });
    }
    await ctx.assertActive();
    const startedAt = new Date();
    await this.db.update(CommandResultEntity, { id: row.id, state: CommandState.Pending }, { state: CommandState.Running, nodeName: node, startedAt });
    if (this.inPods()) {
      await this.outcomes.settleCommand(op, await this.executeInPod(cluster, row, node, startedAt));
      return;
    }
    const outcome = await this.execute(row, node, startedAt);
    await this.cleanup(node, commandWorkingDir(row.id));
    await this.outcomes.settleCommand(op, outcome);
  }

  /**
   * Whether commands run in a pod of the cluster, as on AKS (its Kubernetes API serves pods and the registry holds
   * the command image), or, on the agent-only control plane or without a registry, with `docker exec` in the node.
   */
  private inPods(): boolean {
    return this.env.CONTROL_PLANE_API === 'kube-apiserver' && this.env.REGISTRY_PORT > 0;
  }

  /** The command in pod `command-<id>` of namespace aks-command, pinned to `node`, with kubectl and cluster-admin rights. */
  private async executeInPod(cluster: ManagedClusterEntity, row: CommandResultEntity, node: string, startedAt: Date): Promise<CommandOutcome> {
    const call = await this.kube.caller(cluster);
    if (!call) return { state: CommandState.Failed, reason: `The managed cluster '${cluster.name}' has no Kubernetes API to run the command in.` };
    const pod = new CommandPod(call, row.id, this.env.RUN_COMMAND_MAX_LOG_BYTES);
    const deadline = this.deadline(startedAt);
    // Right after the worker started, the command image may still be on its way into the registry.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.registry.seeding, new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(timer);
    try {
      await pod.create({ commandId: row.id, command: row.command, context: row.context, image: `${this.registry.host}/${COMMAND_IMAGE_PATH}`, node }, deadline);
    } catch (err) {
      await pod.remove();
      return {
        state: CommandState.Failed,
        reason: `The command could not be run in a pod of the cluster: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    const end = await pod.wait(deadline);
    await pod.remove();
    return this.podOutcome(end, node);
  }

  private podOutcome(end: PodEnd, node: string): CommandOutcome {
    switch (end.kind) {
      case 'exited':
        return { state: CommandState.Succeeded, exitCode: end.exitCode, logs: end.logs, finishedAt: end.finishedAt };
      case 'timedOut':
        return { state: CommandState.Failed, logs: end.logs, reason: this.timeoutReason() };
      default:
        return { state: CommandState.Failed, logs: end.logs, reason: `${end.reason} (node ${node})` };
    }
  }

  /** The running command's pod, followed to its end; undefined when there is none to follow (it never started, or is gone). */
  private async reattach(row: CommandResultEntity): Promise<{ pod: CommandPod; end: PodEnd } | undefined> {
    if (!this.inPods()) return undefined;
    const cluster = await this.clusters.findById(this.db, row.clusterId);
    const call = cluster ? await this.kube.caller(cluster) : undefined;
    if (!call) return undefined;
    const pod = new CommandPod(call, row.id, this.env.RUN_COMMAND_MAX_LOG_BYTES);
    if (!(await pod.exists().catch(() => false))) return undefined;
    return { pod, end: await pod.wait(this.deadline(row.startedAt ?? new Date())) };
  }

  /** When a command started at `startedAt` is stopped, wherever it runs. */
  private deadline(startedAt: Date): number {
    return startedAt.getTime() + this.env.RUN_COMMAND_TIMEOUT_SECONDS * 1000;
  }

  private timeoutReason(): string {
    return `The command did not finish within ${this.env.RUN_COMMAND_TIMEOUT_SECONDS} seconds and was stopped.`;
  }

  private async execute(row: CommandResultEntity, node: string, startedAt: Date): Promise<CommandOutcome> {
    const timeoutMs = this.env.RUN_COMMAND_TIMEOUT_SECONDS * 1000;
    const deadline = this.deadline(startedAt);
    const workingDir = commandWorkingDir(row.id);
    const maxOutputBytes = this.env.RUN_COMMAND_MAX_LOG_BYTES;
    const timedOut = (logs: string): CommandOutcome => ({ state: CommandState.Failed, logs, reason: this.timeoutReason() });
    try {
      if (row.context) {
        const unzip = await this.provider.exec(node, ['sh', '-c', 'unzip -oq "$1" && rm -f "$1"', 'sh', CONTEXT_ZIP], {
          workingDir,
          files: [{ path: CONTEXT_ZIP, content: row.context }],
          timeoutMs,
          maxOutputBytes,
        });
        if (unzip.timedOut) return timedOut(unzip.output);
        if (unzip.exitCode !== 0) {
          return { state: CommandState.Failed, logs: unzip.output, reason: `The context could not be unpacked (unzip exited with ${unzip.exitCode}).` };
        }
      }
      const result = await this.provider.exec(node, ['sh', '-c', row.command], {
        workingDir,
        files: row.context ? undefined : [],
        timeoutMs: Math.max(1, deadline - Date.now()),
        maxOutputBytes,
      });
      if (result.timedOut) return timedOut(result.output);
      return { state: CommandState.Succeeded, exitCode: result.exitCode, logs: result.output, finishedAt: result.finishedAt };
    } catch (err) {
      // The command may have started: never retried, the failure is its result.
      if (err instanceof ProviderError) return { state: CommandState.Failed, reason: `The command could not be run in node ${node}: ${err.message}` };
      throw err;
    }
  }

  /** Ready, schedulable node of a System pool (see chooseCommandNode), or undefined when there is none. */
  private async pickNode(cluster: ManagedClusterEntity): Promise<string | undefined> {
    const pools = await this.pools.listByCluster(this.db, cluster.id, { mode: AgentPoolMode.System });
    const systemPools = pools.filter((p) => p.provisioningState !== ProvisioningState.Deleting).map((p) => p.name);
    let handles: NodeHandle[];
    try {
      handles = await this.fleet.listClusterNodes(cluster.id);
    } catch (err) {
      // Nothing has run yet: an engine hiccup is worth a retry.
      if (err instanceof ProviderError && err.transient) throw new TransientError(err.message, { cause: err });
      throw err;
    }
    const byName = new Map(handles.map((h) => [h.name, h]));
    const candidates = chooseCommandNode(
      systemPools,
      handles.map((h) => ({ name: h.name, pool: h.labels[NodeLabels.pool] ?? '', running: h.state === 'running' && !!h.agentUrl })),
    );
    for (const name of candidates) {
      const agentUrl = byName.get(name)?.agentUrl;
      if (!agentUrl) continue;
      try {
        const status = await this.agents.status(agentUrl, AGENT_STATUS_TIMEOUT_MS);
        if (readyCondition(status)?.status === 'True' && !status.unschedulable) return name;
      } catch (err) {
        if (!(err instanceof ProviderError)) throw err;
        // An agent that does not answer is not Ready: try the next node.
      }
    }
    return undefined;
  }

  private async cleanup(node: string, workingDir: string): Promise<void> {
    try {
      await this.provider.exec(node, ['rm', '-rf', workingDir], { timeoutMs: CLEANUP_TIMEOUT_MS });
    } catch (err) {
      // A leftover directory in /tmp of a node is harmless: it must not turn a finished command into a failure.
      this.logger.warn(`could not remove ${workingDir} in node ${node}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
