import { newEtag } from '@cerulean/arm';
import { KubernetesVersionCatalog } from '@cerulean/catalog';
import {
  AgentPoolEntity,
  AgentPoolRepository,
  ClusterRepository,
  CommandResultEntity,
  CommandState,
  DeploymentEntity,
  DeploymentState,
  isDeploymentKind,
  ManagedClusterEntity,
  OperationEntity,
  OperationKind,
  OperationRepository,
  OperationStatus,
  PowerStateCode,
  ProvisioningState,
  ResourceGroupEntity,
  StoredError,
} from '@cerulean/domain';
import { Injectable } from '@nestjs/common';
import { InjectEntityManager } from '@nestjs/typeorm';
import { EntityManager, In, Not } from 'typeorm';
import { OperationSuperseded } from './errors';

const versions = new KubernetesVersionCatalog();
const unsettled = () => Not(In([ProvisioningState.Succeeded, ProvisioningState.Failed, ProvisioningState.Canceled]));

/** How a command ended, as stored on its row (cluster.run-command). */
export interface CommandOutcome {
  state: CommandState.Succeeded | CommandState.Failed;
  exitCode?: number;
  logs?: string;
  reason?: string;
  finishedAt?: Date;
}

/** The kinds whose success settles a cluster and its pools (ClusterConvergeHandler). */
const CLUSTER_CHANGES: readonly OperationKind[] = [
  OperationKind.ClusterPut,
  OperationKind.AgentPoolPut,
  OperationKind.AgentPoolDelete,
  OperationKind.AgentPoolUpgradeNodeImage,
  OperationKind.AgentPoolDeleteMachines,
  OperationKind.ClusterStart,
  OperationKind.ClusterStop,
];

/** The power state a cluster change leaves on the cluster and its pools, when it sets one. */
export const powerAfter = (kind: OperationKind): PowerStateCode | undefined =>
  kind === OperationKind.ClusterStop ? PowerStateCode.Stopped : kind === OperationKind.ClusterStart ? PowerStateCode.Running : undefined;

/**
 * The one place that ends operations: for each outcome (Succeeded, Failed, Canceled) and each kind, what goes on the
 * operation row and on the resources it changed (provisioning state, power state, versions, etags), in the same
 * transaction (R11.9). An operation already ended elsewhere is never ended twice: `finish` only moves InProgress rows.
 */
@Injectable()
export class OutcomeRecorder {
  constructor(
    @InjectEntityManager() private readonly db: EntityManager,
    private readonly operations: OperationRepository,
    private readonly clusters: ClusterRepository,
    private readonly pools: AgentPoolRepository,
  ) {}

  /**
   * Succeeded, and what the kind's success leaves on its resources. Throws OperationSuperseded when the operation
   * was already ended (a delete canceled it): nothing is written then.
   */
  async succeed(op: OperationEntity): Promise<void> {
    if (op.kind === OperationKind.ClusterRunCommand)
      throw new Error(`a command's outcome is recorded with its result (settleCommand), not by succeed (${op.id})`);
    if (isDeploymentKind(op.kind)) throw new Error(`a deployment's success is recorded by DeploymentHandler with its outputs (${op.id})`);
    await this.db.transaction(async (tx) => {
      if (!(await this.operations.finish(tx, op.id, OperationStatus.Succeeded))) throw new OperationSuperseded(op.id);
      if (CLUSTER_CHANGES.includes(op.kind)) return this.settleClusterChange(tx, op);
      if (op.kind === OperationKind.ClusterDelete && op.clusterId) await tx.delete(ManagedClusterEntity, { id: op.clusterId });
      if (op.kind === OperationKind.ResourceGroupDelete && op.resourceGroupId) await tx.delete(ResourceGroupEntity, { id: op.resourceGroupId });
      // cluster.rotate-certificates and cluster.abort change no row of their own on success.
    });
  }

  /** Ends the operation as Failed and marks what it was changing as Failed too (R11.9/R11.10). */
  async fail(operationId: string, error: StoredError): Promise<void> {
    await this.db.transaction(async (tx) => {
      const op = await tx.findOne(OperationEntity, { where: { id: operationId }, lock: { mode: 'pessimistic_write' } });
      if (!op || !(await this.operations.finish(tx, op.id, OperationStatus.Failed, error))) return;
      // A command changes nothing on its cluster; its result reads the operation's error (commandResults).
      if (op.kind === OperationKind.ClusterRunCommand) return;
      if (isDeploymentKind(op.kind)) {
        const running = In([DeploymentState.Accepted, DeploymentState.Running]);
        await tx.update(
          DeploymentEntity,
          { operationId: op.id, provisioningState: running },
          { provisioningState: DeploymentState.Failed, error, plan: null, secureValuesDropped: true },
        );
        return;
      }
      if (op.kind === OperationKind.ResourceGroupDelete && op.resourceGroupId) {
        await tx.update(ResourceGroupEntity, { id: op.resourceGroupId }, { provisioningState: ProvisioningState.Succeeded });
        await tx.update(
          ManagedClusterEntity,
          { resourceGroupId: op.resourceGroupId },
          { provisioningState: ProvisioningState.Failed, provisioningError: error },
        );
        return;
      }
      // An abort that failed leaves the resources to the operation it tried to cancel.
      if (!op.clusterId || op.kind === OperationKind.ClusterAbort) return;
      if (op.agentPoolId) {
        await tx.update(AgentPoolEntity, { id: op.agentPoolId }, { provisioningState: ProvisioningState.Failed, provisioningError: error, etag: newEtag() });
      } else {
        await tx.update(
          AgentPoolEntity,
          { clusterId: op.clusterId, provisioningState: unsettled() },
          { provisioningState: ProvisioningState.Failed, etag: newEtag() },
        );
        await tx.update(ManagedClusterEntity, { id: op.clusterId }, { provisioningState: ProvisioningState.Failed, provisioningError: error, etag: newEtag() });
      }
    });
  }

  /**
   * Ends an aborted operation as Canceled, and what it was changing as Canceled too (R12.2). The handler has
   * already removed what it half-made; what it finished stays. False when the operation had already ended.
   */
  async cancel(operationId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const op = await tx.findOne(OperationEntity, { where: { id: operationId }, lock: { mode: 'pessimistic_write' } });
      const error = { code: 'OperationCanceled', message: `The operation was canceled by an abort request.` };
      if (!op || !(await this.operations.finish(tx, op.id, OperationStatus.Canceled, error))) return false;
      if (!op.clusterId) return true;
      if (op.agentPoolId) {
        await tx.update(AgentPoolEntity, { id: op.agentPoolId }, { provisioningState: ProvisioningState.Canceled, etag: newEtag() });
        return true;
      }
      await tx.update(
        AgentPoolEntity,
        { clusterId: op.clusterId, provisioningState: unsettled() },
        { provisioningState: ProvisioningState.Canceled, etag: newEtag() },
      );
      await tx.update(ManagedClusterEntity, { id: op.clusterId }, { provisioningState: ProvisioningState.Canceled, etag: newEtag() });
      return true;
    });
  }

  /**
   * The resource the operation works on is gone: its delete canceled this operation first and this is a stale job.
   * The operation ends Canceled; there is no resource left to write.
   */
  async resourceGone(op: OperationEntity): Promise<void> {
    await this.db.transaction((tx) =>
      this.operations.finish(tx, op.id, OperationStatus.Canceled, { code: 'ResourceNotFound', message: 'The managed cluster no longer exists.' }),
    );
  }

  /** Ends a command's operation (Succeeded or Failed, as the command did) and its result row in one transaction (R11.9); the context goes. */
  async settleCommand(op: OperationEntity, outcome: CommandOutcome): Promise<void> {
    await this.db.transaction(async (tx) => {
      const failed = outcome.state === CommandState.Failed;
      const ended = await this.operations.finish(
        tx,
        op.id,
        failed ? OperationStatus.Failed : OperationStatus.Succeeded,
        failed ? { code: 'CommandFailed', message: outcome.reason ?? 'The command failed.' } : undefined,
      );
      if (!ended) return;
      await tx.update(
        CommandResultEntity,
        { id: op.id },
        {
          state: outcome.state,
          exitCode: outcome.exitCode ?? null,
          ...(outcome.logs !== undefined ? { logs: outcome.logs } : {}),
          finishedAt: outcome.finishedAt ?? new Date(),
          reason: outcome.reason ?? null,
          context: null,
        },
      );
    });
  }

  /**
   * A cluster change succeeded: pools in Deleting are removed; every pool's machinesToDelete is cleared; the operation's
   * pool (or, for a cluster-level change, every pool and the cluster) becomes Succeeded with its current versions and the power state the kind sets.
   */
  private async settleClusterChange(tx: EntityManager, op: OperationEntity): Promise<void> {
    const cluster = op.clusterId ? await this.clusters.findById(tx, op.clusterId, true) : null;
    if (!cluster) return;
    const pools = await this.pools.listByCluster(tx, cluster.id);
    const power = powerAfter(op.kind);
    const clusterLevel = !op.agentPoolId;
    for (const pool of pools) {
      if (pool.provisioningState === ProvisioningState.Deleting) {
        await tx.delete(AgentPoolEntity, { id: pool.id });
        continue;
      }
      // Every pool converged, so the machines deleteMachines named are gone (or wanted again by a later count).
      if (pool.machinesToDelete.length > 0) await tx.update(AgentPoolEntity, { id: pool.id }, { machinesToDelete: [] });
      if (!clusterLevel && pool.id !== op.agentPoolId) continue;
      await tx.update(
        AgentPoolEntity,
        { id: pool.id },
        {
          provisioningState: ProvisioningState.Succeeded,
          provisioningError: null,
          currentOrchestratorVersion: versions.resolve(pool.orchestratorVersion) ?? pool.orchestratorVersion,
          ...(power ? { powerState: power } : {}),
          etag: newEtag(),
        },
      );
    }
    if (clusterLevel) {
      await tx.update(
        ManagedClusterEntity,
        { id: cluster.id },
        {
          provisioningState: ProvisioningState.Succeeded,
          provisioningError: null,
          currentKubernetesVersion: versions.resolve(cluster.kubernetesVersion) ?? cluster.kubernetesVersion,
          ...(power ? { powerState: power } : {}),
          etag: newEtag(),
        },
      );
    }
  }
}
