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
import { NODE_PROVIDER, NodeAgentClient, NodeHandle, NodeLabels, NodeProvider, ProviderError, readyCondition } from '@cerulean/node-provider';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { TransientError } from '../engine/errors';
import { OperationContext } from '../engine/operation-context';
import { CommandOutcome, OutcomeRecorder } from '../engine/outcome.recorder';
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
 * cluster.run-command: runs `sh -c <command>` once in a node (docker exec), in a fresh working directory
 * holding the unpacked context, and stores exit code, output and times. The command runs at most once:
 * a retry that finds it started (the worker died mid-command) reports it interrupted instead of running
 * it again. Every outcome is recorded on the row and the operation together; no error leaves either open.
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
    const outcome = await this.execute(row, node, startedAt);
    await this.cleanup(node, commandWorkingDir(row.id));
    await this.outcomes.settleCommand(op, outcome);
  }

  private async execute(row: CommandResultEntity, node: string, startedAt: Date): Promise<CommandOutcome> {
    const timeoutMs = this.env.RUN_COMMAND_TIMEOUT_SECONDS * 1000;
    const deadline = startedAt.getTime() + timeoutMs;
    const workingDir = commandWorkingDir(row.id);
    const maxOutputBytes = this.env.RUN_COMMAND_MAX_LOG_BYTES;
    const timedOut = (logs: string): CommandOutcome => ({
      state: CommandState.Failed,
      logs,
      reason: `The command did not finish within ${this.env.RUN_COMMAND_TIMEOUT_SECONDS} seconds and was stopped.`,
    });
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
