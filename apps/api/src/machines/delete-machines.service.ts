import { ArmError, assertAgentPoolName, modifiedSystemData, newEtag, ResourceTypes } from '@cerulean/arm';
import { AgentPoolMode, AgentPoolRepository, OperationEntity, OperationKind, PowerStateCode, ProvisioningState } from '@cerulean/domain';
import { OperationStarter } from '@cerulean/queue-contracts';
import { Injectable } from '@nestjs/common';
import { stoppedClusterRefuses } from '../clusters/cluster-rules';
import { ClustersService } from '../clusters/clusters.service';
import { ArmCall } from '../common/arm-request';
import { resourceGroupBeingDeleted } from '../resource-groups/resource-groups.service';
import { MachinesService } from './machines.service';

/**
 * AgentPools_DeleteMachines: the named machines leave the pool and its count shrinks by as many. Nothing is removed
 * here: the pool row records the names (machinesToDelete) and the lower count, and the pool's operation converges it
 * like a scale-in, which drains (PDBs hold) and removes those nodes instead of the highest-numbered.
 */
@Injectable()
export class DeleteMachinesService {
  constructor(
    private readonly clusters: ClustersService,
    private readonly machines: MachinesService,
    private readonly pools: AgentPoolRepository,
    private readonly starter: OperationStarter,
  ) {}

  async deleteMachines(sub: string, rgName: string, clusterName: string, poolName: string, machineNames: string[], call: ArmCall): Promise<OperationEntity> {
    assertAgentPoolName(poolName);
    // The names that can be deleted are the ones Machines_List shows (also the 404 of a missing cluster or pool).
    const listed = new Map((await this.machines.list(sub, rgName, clusterName, poolName)).map((m) => [m.name.toLowerCase(), m.name]));
    const { operation } = await this.starter.run(async (tx) => {
      const { rg, cluster, pools } = await this.clusters.get(sub, rgName, clusterName, tx, true);
      if (rg.provisioningState === ProvisioningState.Deleting) throw resourceGroupBeingDeleted(rg.name);
      const pool = pools.find((p) => p.nameKey === poolName.toLowerCase());
      if (!pool) throw ArmError.resourceNotFound(ResourceTypes.agentPools, `${cluster.name}/${poolName}`, rg.name);
      if (cluster.provisioningState === ProvisioningState.Deleting) {
        throw ArmError.conflict('OperationNotAllowed', `Managed cluster '${cluster.name}' is being deleted.`);
      }
      // The 409 comes before the names are judged: while another operation runs, the pool's machines are changing.
      // A 400 below rolls this row back with the rest of the transaction.
      const operation = await this.starter.startOnCluster(tx, { rg, cluster, pool }, OperationKind.AgentPoolDeleteMachines, call);
      if (cluster.powerState === PowerStateCode.Stopped) throw stoppedClusterRefuses(cluster.name, 'deleting machines');
      if (pool.powerState === PowerStateCode.Stopped) {
        throw ArmError.badRequest('OperationNotAllowed', `Unable to delete machines of agent pool '${pool.name}' since it is stopped. Start it first.`);
      }
      const unknown = machineNames.filter((n) => !listed.has(n.toLowerCase()));
      if (unknown.length > 0) {
        throw ArmError.invalidParameter(
          'machineNames',
          `Machine(s) ${unknown.map((n) => `'${n}'`).join(', ')} not found in agent pool '${pool.name}'. ` +
            `Use 'az aks machine list' to see the machines of the pool.`,
        );
      }
      const named = [...new Set(machineNames.map((n) => listed.get(n.toLowerCase()) ?? n))];
      // Names a failed deleteMachines left behind are still out of the count: named again, they do not count twice.
      const pending = pool.machinesToDelete.filter((n) => listed.has(n.toLowerCase()));
      const added = named.filter((n) => !pending.includes(n));
      const count = Math.max(0, pool.count - added.length);
      if (pool.mode === AgentPoolMode.System && count < 1 && !pools.some((p) => p.id !== pool.id && p.mode === AgentPoolMode.System && p.count >= 1)) {
        throw ArmError.invalidParameter('machineNames', 'A managed cluster must keep at least one System agent pool with at least 1 node.');
      }
      if (pool.enableAutoScaling && pool.minCount !== null && count < pool.minCount) {
        throw ArmError.invalidParameter(
          'machineNames',
          `Deleting ${added.length} machine(s) leaves agent pool '${pool.name}' with ${count} node(s), below its minCount (${pool.minCount}).`,
        );
      }
      Object.assign(pool, {
        count,
        machinesToDelete: [...pending, ...added],
        provisioningState: ProvisioningState.Scaling,
        provisioningError: null,
        etag: newEtag(),
        systemData: modifiedSystemData(pool.systemData, call.caller, call.receivedAt),
      });
      await this.pools.save(tx, pool);
      return { operation };
    });
    return operation;
  }
}
