import { ApiVersions, ResourceTypes } from '@cerulean/arm';
import { Controller, Get, Param } from '@nestjs/common';
import { AgentPoolsService } from '../agent-pools/agent-pools.service';
import { ClustersService } from '../clusters/clusters.service';
import { ArmApiVersions } from '../common/api-version.guard';
import { agentPoolUpgradeProfile, availableAgentPoolVersions, clusterUpgradeProfile } from './upgrade-profiles';
import { CLUSTER_ROUTE, ClusterPath } from '../clusters/routes';

/** Upgrade profiles and available pool versions: read-only views of the versions catalog (R9.6). */
@Controller()
@ArmApiVersions(ApiVersions.containerService, ResourceTypes.managedClusters)
export class UpgradeProfilesController {
  constructor(
    private readonly clusters: ClustersService,
    private readonly pools: AgentPoolsService,
  ) {}

  @Get(`${CLUSTER_ROUTE}/upgradeProfiles/default`)
  async cluster(@Param() p: ClusterPath) {
    const { rg, cluster, pools } = await this.clusters.get(p.subscriptionId, p.resourceGroupName, p.resourceName);
    return clusterUpgradeProfile(cluster, rg.name, pools);
  }

  @Get(`${CLUSTER_ROUTE}/agentPools/:agentPoolName/upgradeProfiles/default`)
  async pool(@Param() p: ClusterPath & { agentPoolName: string }) {
    const { rg, cluster, pool } = await this.pools.get(p.subscriptionId, p.resourceGroupName, p.resourceName, p.agentPoolName);
    return agentPoolUpgradeProfile(cluster, rg.name, pool);
  }

  @Get(`${CLUSTER_ROUTE}/availableAgentPoolVersions`)
  async available(@Param() p: ClusterPath) {
    const { rg, cluster } = await this.clusters.get(p.subscriptionId, p.resourceGroupName, p.resourceName);
    return availableAgentPoolVersions(cluster, rg.name);
  }
}
