import { ApiVersions, ResourceTypes } from '@cerulean/arm';
import { Controller, Get, Param } from '@nestjs/common';
import { AgentPoolsService } from '../agent-pools/agent-pools.service';
import { ClusterPath } from '../clusters/clusters.controller';
import { ClustersService } from '../clusters/clusters.service';
import { ArmApiVersions } from '../common/api-version.guard';
import { agentPoolUpgradeProfile, availableAgentPoolVersions, clusterUpgradeProfile } from './upgrade-profiles';

const CLUSTER = 'subscriptions/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.ContainerService/managedClusters/:resourceName';

/** Upgrade profiles and available pool versions: read-only views of the versions catalog (R9.6). */
@Controller()
@ArmApiVersions(ApiVersions.containerService, ResourceTypes.managedClusters)
export class UpgradeProfilesController {
  constructor(
    private readonly clusters: ClustersService,
    private readonly pools: AgentPoolsService,
  ) {}

  @Get(`${CLUSTER}/upgradeProfiles/default`)
  async cluster(@Param() p: ClusterPath) {
    const { rg, cluster, pools } = await this.clusters.get(p.subscriptionId, p.resourceGroupName, p.resourceName);
    return clusterUpgradeProfile(cluster, rg.name, pools);
  }

  @Get(`${CLUSTER}/agentPools/:agentPoolName/upgradeProfiles/default`)
  async pool(@Param() p: ClusterPath & { agentPoolName: string }) {
    const { rg, cluster, pool } = await this.pools.get(p.subscriptionId, p.resourceGroupName, p.resourceName, p.agentPoolName);
    return agentPoolUpgradeProfile(cluster, rg.name, pool);
  }

  @Get(`${CLUSTER}/availableAgentPoolVersions`)
  async available(@Param() p: ClusterPath) {
    const { rg, cluster } = await this.clusters.get(p.subscriptionId, p.resourceGroupName, p.resourceName);
    return availableAgentPoolVersions(cluster, rg.name);
  }
}
