import { ClusterCredentialRepository } from '@cerulean/domain';
import { QueueModule } from '@cerulean/queue-contracts';
import { Module } from '@nestjs/common';
import { OperationsModule } from '../operations/operations.module';
import { ResourceGroupsModule } from '../resource-groups/resource-groups.module';
import { ClusterActionsController } from './cluster-actions.controller';
import { ClusterActionsService } from './cluster-actions.service';
import { ClusterOperationResults } from './cluster-operation-results';
import { ClustersController } from './clusters.controller';
import { ClustersService } from './clusters.service';

/**
 * Managed clusters and their actions (stop, start, abort, rotate certificates). Exports the cluster lookup and
 * the cluster credential store (a cluster gets its credentials when it is created; credentials and machines read them).
 */
@Module({
  imports: [QueueModule, ResourceGroupsModule, OperationsModule],
  controllers: [ClustersController, ClusterActionsController],
  providers: [ClustersService, ClusterActionsService, ClusterCredentialRepository, ClusterOperationResults],
  exports: [ClustersService, ClusterCredentialRepository],
})
export class ClustersModule {}
