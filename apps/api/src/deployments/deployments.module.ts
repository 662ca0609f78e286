import { QueueModule } from '@cerulean/queue-contracts';
import { Module } from '@nestjs/common';
import { HostedResourcesModule } from '../hosted-resources/hosted-resources.module';
import { OperationsModule } from '../operations/operations.module';
import { ResourceGroupsModule } from '../resource-groups/resource-groups.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { DeploymentOperationResults } from './deployment-operation-results';
import { DeploymentsController } from './deployments.controller';
import { DeploymentsService } from './deployments.service';
import { TemplateEvaluationPool } from './template-evaluation.pool';

/** Template deployments at resource group and subscription scope, what-if, and their operations. */
@Module({
  imports: [QueueModule, SubscriptionsModule, ResourceGroupsModule, HostedResourcesModule, OperationsModule],
  controllers: [DeploymentsController],
  providers: [DeploymentsService, TemplateEvaluationPool, DeploymentOperationResults],
})
export class DeploymentsModule {}
