import { ArmError, modifiedSystemData, newEtag, ResourceTypes } from '@cerulean/arm';
import { NodeImageCatalog } from '@cerulean/catalog';
import {
  AgentPoolEntity,
  AgentPoolRepository,
  ClusterRepository,
  ClusterWithPools,
  ManagedClusterEntity,
  OperationEntity,
  OperationKind,
  OperationRepository,
  PowerStateCode,
  ProvisioningState,
  clusterLockKey,
  isTerminalProvisioningState,
} from '@cerulean/domain';
import { OperationStarter } from '@cerulean/queue-contracts';
import { Injectable } from '@nestjs/common';
import { ArmCall } from '../common/arm-request';
import { powerChangeRefusal, stoppedClusterRefuses } from './cluster-rules';
import { ClustersService } from './clusters.service';

const nodeImages = new NodeImageCatalog();

/** What an action answered: an operation to poll (202), or nothing to do (204 / 200). */
export interface ActionResult {
  operation?: OperationEntity;
  found: ClusterWithPools;
  pool?: AgentPoolEntity;
}

/** The lock key of abort operations: apart from the cluster's, so an abort never waits for what it cancels. */
const abortLockKey = (clusterId: string): string => `abort:${clusterId}`;

/**
 * AKS's POST actions that change a cluster's state: stop, start, abort (cluster and pool) and
 * upgradeNodeImageVersion. Each one is an operation in the same engine as PUT and DELETE.
 */
@Injectable()
export class ClusterActionsService {
  constructor(
    private readonly clusters: ClustersService,
    private readonly clusterRows: ClusterRepository,
    private readonly pools: AgentPoolRepository,
    private readonly operations: OperationRepository,
    private readonly starter: OperationStarter,
  ) {}

  /** Stop: only a Running cluster (R12.3); an already stopping one answers with its running stop (R14.2). */
  stop(sub: string, rgName: string, name: string, call: ArmCall): Promise<ActionResult> {
    return this.powerChange(sub, rgName, name, call, PowerStateCode.Stopped);
  }

  start(sub: string, rgName: string, name: string, call: ArmCall): Promise<ActionResult> {
    return this.powerChange(sub, rgName, name, call, PowerStateCode.Running);
  }

  private async powerChange(sub: string, rgName: string, name: string, call: ArmCall, target: PowerStateCode): Promise<ActionResult> {
    const kind = target === PowerStateCode.Stopped ? OperationKind.ClusterStop : OperationKind.ClusterStart;
    return this.starter.run(async (tx): Promise<ActionResult> => {
      const found = await this.clusters.get(sub, rgName, name, tx, true);
      const { rg, cluster, pools } = found;
      const running = await this.operations.findInProgress(tx, clusterLockKey(cluster.id));
      if (running?.kind === kind) return { found, operation: running };
      assertNotDeleting(cluster);
      const refusal = running ? undefined : powerChangeRefusal(cluster, target);
      if (refusal) throw refusal;
      const operation = await this.starter.startOnCluster(tx, { rg, cluster }, kind, call);
      cluster.provisioningState = target === PowerStateCode.Stopped ? ProvisioningState.Stopping : ProvisioningState.Starting;
      cluster.provisioningError = null;
      cluster.etag = newEtag();
      cluster.systemData = modifiedSystemData(cluster.systemData, call.caller, call.receivedAt);
      await this.clusterRows.save(tx, cluster);
      for (const pool of pools) {
        pool.provisioningState = cluster.provisioningState;
        pool.provisioningError = null;
        pool.etag = newEtag();
        await this.pools.save(tx, pool);
      }
      return { found, operation };
    });
  }

  /**
   * Abort (R12.2): asks the worker running the cluster's (or the pool's) operation to stop, shows
   * Canceling, and returns an abort operation that ends when the target is Canceled. Nothing running: 409.
   */
  async abort(sub: string, rgName: string, name: string, poolName: string | undefined, call: ArmCall): Promise<ActionResult> {
    return this.starter.run(async (tx): Promise<ActionResult> => {
      const found = await this.clusters.get(sub, rgName, name, tx, true);
      const { rg, cluster, pools } = found;
      const pool = poolName === undefined ? undefined : pools.find((p) => p.nameKey === poolName.toLowerCase());
      if (poolName !== undefined && !pool) throw poolNotFound(found, poolName);
      const running = await this.operations.findInProgress(tx, clusterLockKey(cluster.id));
      const targetName = pool ? `agent pool '${pool.name}'` : `managed cluster '${cluster.name}'`;
      if (!running || (pool && running.agentPoolId !== pool.id)) {
        throw ArmError.conflict('OperationNotAllowed', `There is no operation in progress on ${targetName} to abort.`);
      }
      if (running.kind === OperationKind.ClusterDelete || running.kind === OperationKind.AgentPoolDelete) {
        throw ArmError.conflict('OperationNotAllowed', `The ${running.kind} operation (operation ID: ${running.id}) on ${targetName} cannot be aborted.`);
      }
      if (running.cancelRequestedAt) {
        const pending = await this.operations.findAbortOf(tx, running.id);
        if (pending) return { found, pool, operation: pending };
      }
      await this.operations.requestCancel(tx, running.id, call.receivedAt);
      const operation = await this.starter.startOnCluster(tx, { rg, cluster, pool }, OperationKind.ClusterAbort, call, {
        key: abortLockKey(cluster.id),
        targetOperationId: running.id,
        describe: (other) => ArmError.conflict('OperationNotAllowed', `An abort (operation ID: ${other.id}) is already in progress on ${targetName}.`),
      });
      // The resources the running operation changes show Canceling until it ends.
      if (!running.agentPoolId) {
        await this.clusterRows.update(tx, cluster.id, { provisioningState: ProvisioningState.Canceling, etag: newEtag() });
      }
      for (const p of pools) {
        const touched = running.agentPoolId ? p.id === running.agentPoolId : !isTerminalProvisioningState(p.provisioningState);
        if (touched) await this.pools.update(tx, p.id, { provisioningState: ProvisioningState.Canceling, etag: newEtag() });
      }
      return { found, pool, operation };
    });
  }

  /**
   * upgradeNodeImageVersion: the pool moves to the newest node image by the same rolling replacement as
   * a version upgrade. Already on it: nothing to do (200, no body).
   */
  async upgradeNodeImage(sub: string, rgName: string, name: string, poolName: string, call: ArmCall): Promise<ActionResult> {
    const latest = nodeImages.latest().version;
    return this.starter.run(async (tx): Promise<ActionResult> => {
      const found = await this.clusters.get(sub, rgName, name, tx, true);
      const { rg, cluster, pools } = found;
      const pool = pools.find((p) => p.nameKey === poolName.toLowerCase());
      if (!pool) throw poolNotFound(found, poolName);
      assertNotDeleting(cluster);
      const running = await this.operations.findInProgress(tx, clusterLockKey(cluster.id));
      if (running?.kind === OperationKind.AgentPoolUpgradeNodeImage && running.agentPoolId === pool.id) return { found, pool, operation: running };
      if (cluster.powerState === PowerStateCode.Stopped) throw stoppedClusterRefuses(cluster.name, 'upgrading node image');
      if (pool.powerState === PowerStateCode.Stopped) {
        throw ArmError.badRequest('OperationNotAllowed', `Unable to upgrade the node image of agent pool '${pool.name}' since it is stopped. Start it first.`);
      }
      if (pool.nodeImageVersion === latest && pool.provisioningState === ProvisioningState.Succeeded) return { found, pool };
      const operation = await this.starter.startOnCluster(tx, { rg, cluster, pool }, OperationKind.AgentPoolUpgradeNodeImage, call);
      pool.nodeImageVersion = latest;
      pool.provisioningState = ProvisioningState.UpgradingNodeImageVersion;
      pool.provisioningError = null;
      pool.etag = newEtag();
      pool.systemData = modifiedSystemData(pool.systemData, call.caller, call.receivedAt);
      await this.pools.save(tx, pool);
      return { found, pool, operation };
    });
  }
}

const poolNotFound = (found: ClusterWithPools, poolName: string): ArmError =>
  ArmError.resourceNotFound(ResourceTypes.agentPools, `${found.cluster.name}/${poolName}`, found.rg.name);

function assertNotDeleting(cluster: ManagedClusterEntity): void {
  if (cluster.provisioningState === ProvisioningState.Deleting) {
    throw ArmError.conflict('OperationNotAllowed', `Managed cluster '${cluster.name}' is being deleted.`);
  }
}
