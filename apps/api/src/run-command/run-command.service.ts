import { randomUUID } from 'node:crypto';
import { ArmError, managedClusterId } from '@cerulean/arm';
import { CommandResultEntity, CommandState, ManagedClusterEntity, OperationEntity, OperationKind, PowerStateCode, ProvisioningState } from '@cerulean/domain';
import { OperationStarter } from '@cerulean/queue-contracts';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager } from 'typeorm';
import { ClustersService } from '../clusters/clusters.service';
import { ArmCall } from '../common/arm-request';
import { resourceGroupBeingDeleted } from '../resource-groups/resource-groups.service';
import { commandOutcome, parseCommandId, toCommandId } from './command-result.mapper';
import { RunCommandRequestDto } from './dto/run-command-request.dto';
import { validateRunCommandRequest } from './run-command.request';

export interface AcceptedCommand {
  commandId: string;
  /** The command's resource path (`.../managedClusters/{c}/commandResults/{id}`). */
  path: string;
}

/** Where a command stands: still running, or ended with its result. */
export type CommandLookup = { running: true; path: string; row: CommandResultEntity } | { running: false; result: CommandResultEntity };

/** A cluster that cannot run a command gets 409, as it would for any other operation it is not ready for. */
export function assertCanRunCommand(cluster: ManagedClusterEntity): void {
  const refuse = (why: string) => ArmError.conflict('OperationNotAllowed', `Cannot run a command on managed cluster '${cluster.name}': ${why}`);
  if (cluster.provisioningState === ProvisioningState.Deleting) throw refuse('it is being deleted.');
  if (cluster.powerState === PowerStateCode.Stopped) throw refuse('it is stopped. Start it first.');
  // Set by the first successful converge: until then the cluster has no nodes to run on.
  if (cluster.currentKubernetesVersion === null) {
    throw refuse(`it has not been provisioned yet (provisioningState ${cluster.provisioningState}).`);
  }
}

/**
 * runCommand and commandResults. A command runs as an operation with a lock key of its own: it neither
 * waits for nor blocks the cluster's mutations (a scale, an upgrade), and several may run at once.
 */
@Injectable()
export class RunCommandService {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly clusters: ClustersService,
    private readonly starter: OperationStarter,
  ) {}

  async run(sub: string, rgName: string, name: string, dto: RunCommandRequestDto, call: ArmCall): Promise<AcceptedCommand> {
    const request = validateRunCommandRequest(dto);
    const accepted = await this.starter.run(async (tx) => {
      const { rg, cluster } = await this.clusters.get(sub, rgName, name, tx);
      if (rg.provisioningState === ProvisioningState.Deleting) throw resourceGroupBeingDeleted(rg.name);
      assertCanRunCommand(cluster);
      const clusterPath = managedClusterId(cluster.subscriptionId, rg.name, cluster.name);
      // A lock key of its own: a command neither waits for nor blocks the cluster's mutations. The operation's
      // resourceId is set below, once the operation id (which is the command id) is known.
      const operation = await this.starter.startOnCluster(tx, { rg, cluster }, OperationKind.ClusterRunCommand, call, {
        key: `command:${randomUUID()}`,
        describe: () => ArmError.internal(),
      });
      const path = `${clusterPath}/commandResults/${toCommandId(operation.id)}`;
      await tx.update(OperationEntity, { id: operation.id }, { resourceId: path });
      await tx.insert(CommandResultEntity, {
        id: operation.id,
        clusterId: cluster.id,
        command: request.command,
        hasContext: request.context !== null,
        context: request.context,
        state: CommandState.Pending,
        nodeName: null,
        exitCode: null,
        logs: '',
        startedAt: null,
        finishedAt: null,
        reason: null,
        createdBy: call.caller.id,
      });
      return { operation, path };
    });
    return { commandId: toCommandId(accepted.operation.id), path: accepted.path };
  }

  /** Unknown ids, and ids of another cluster's commands, are 404. */
  async get(sub: string, rgName: string, name: string, commandId: string): Promise<CommandLookup> {
    // One snapshot for the row and its operation: the worker settles both in one transaction, and two
    // separate reads could see the operation ended but the row not yet.
    const { rg, cluster, row, op } = await this.db.transaction('REPEATABLE READ', async (tx) => {
      const found = await this.clusters.get(sub, rgName, name, tx);
      const id = parseCommandId(commandId);
      const command = id ? await tx.findOne(CommandResultEntity, { where: { id, clusterId: found.cluster.id } }) : null;
      const operation = command ? await tx.findOne(OperationEntity, { where: { id: command.id } }) : null;
      return { ...found, row: command, op: operation };
    });
    if (!row) {
      throw ArmError.notFound('ResourceNotFound', `Command '${commandId}' was not found in managed cluster '${cluster.name}' (resource group '${rg.name}').`);
    }
    const ended = commandOutcome(row, op);
    if (!ended) return { running: true, row, path: `${managedClusterId(cluster.subscriptionId, rg.name, cluster.name)}/commandResults/${toCommandId(row.id)}` };
    return { running: false, result: ended };
  }
}
