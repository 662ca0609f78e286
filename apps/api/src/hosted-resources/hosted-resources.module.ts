import { Module } from '@nestjs/common';
import { AgentPoolsModule } from '../agent-pools/agent-pools.module';
import { ClustersModule } from '../clusters/clusters.module';
import { ResourceGroupsModule } from '../resource-groups/resource-groups.module';
import { HostedResources } from './hosted-resources.service';

/** The resource types a deployment may create here (clusters and their pools), behind one interface. */
@Module({
  imports: [ResourceGroupsModule, ClustersModule, AgentPoolsModule],
  providers: [HostedResources],
  exports: [HostedResources],
})
export class HostedResourcesModule {}
