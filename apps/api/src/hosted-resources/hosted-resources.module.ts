import { Module } from '@nestjs/common';
import { ClustersModule } from '../clusters/clusters.module';
import { ResourceGroupsModule } from '../resource-groups/resource-groups.module';
import { HostedResources } from './hosted-resources.service';

/** The resource types a deployment may create here (clusters, their pools and maintenance configurations), behind one interface. */
@Module({
  imports: [ResourceGroupsModule, ClustersModule],
  providers: [HostedResources],
  exports: [HostedResources],
})
export class HostedResourcesModule {}
