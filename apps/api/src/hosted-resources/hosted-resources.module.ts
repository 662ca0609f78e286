import { QueueModule } from '@cerulean/queue-contracts';
import { Module } from '@nestjs/common';
import { AgentPoolsService } from '../agent-pools/agent-pools.service';
import { ClustersService } from '../clusters/clusters.service';
import { ResourceGroupsService } from '../resource-groups/resource-groups.service';
import { SubscriptionsService } from '../subscriptions/subscriptions.service';
import { HostedResources } from './hosted-resources';

/**
 * The write path of hosted resources (subscriptions, groups, clusters, agent pools), shared by the API and the
 * worker (template deployments): a resource in a template is created by the very services a PUT uses.
 * Needs the global ConfigModule and DatabaseModule.
 */
@Module({
  imports: [QueueModule],
  providers: [SubscriptionsService, ResourceGroupsService, ClustersService, AgentPoolsService, HostedResources],
  exports: [SubscriptionsService, ResourceGroupsService, ClustersService, AgentPoolsService, HostedResources],
})
export class HostedResourcesModule {}
