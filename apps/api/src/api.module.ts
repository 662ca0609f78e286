import { ConfigModule } from '@cerulean/config';
import { ClusterCredentialRepository, DatabaseModule } from '@cerulean/domain';
import { QueueModule } from '@cerulean/queue-contracts';
import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { AgentPoolsController } from './agent-pools/agent-pools.controller';
import { ClusterActionsController } from './clusters/cluster-actions.controller';
import { ClusterActionsService } from './clusters/cluster-actions.service';
import { ClustersController } from './clusters/clusters.controller';
import { ActivityLogController } from './activity-log/activity-log.controller';
import { ActivityLogService } from './activity-log/activity-log.service';
import { AuthorizationGuard } from './authorization/authorization.guard';
import { AuthorizationService } from './authorization/authorization.service';
import { ListVisibilityInterceptor } from './authorization/list-visibility.interceptor';
import { RoleAssignmentsController, RoleDefinitionsController } from './authorization/role-assignments.controller';
import { RoleAssignmentsService } from './authorization/role-assignments.service';
import { ThrottleGuard } from './authorization/throttle.guard';
import { ApiVersionGuard } from './common/api-version.guard';
import { ArmExceptionFilter } from './common/arm-exception.filter';
import { BearerAuthGuard } from './common/bearer-auth.guard';
import { ConditionalGetInterceptor } from './common/conditional-get.interceptor';
import { RouteParamsGuard } from './common/route-params.guard';
import { CredentialsController } from './credentials/credentials.controller';
import { CredentialsService } from './credentials/credentials.service';
import { armValidationPipe } from './common/validation';
import { AgentPoolsService } from './agent-pools/agent-pools.service';
import { ClustersService } from './clusters/clusters.service';
import { HostedResources } from './hosted-resources/hosted-resources.service';
import { ResourceGroupsService } from './resource-groups/resource-groups.service';
import { SubscriptionsService } from './subscriptions/subscriptions.service';
import { DeploymentsController } from './deployments/deployments.controller';
import { DeploymentsService } from './deployments/deployments.service';
import { TemplateEvaluationPool } from './deployments/template-evaluation.pool';
import { HealthController } from './health.controller';
import { MachinesController } from './machines/machines.controller';
import { MachinesService } from './machines/machines.service';
import { IdentityModule } from './identity/identity.module';
import { KubernetesVersionsController } from './operations/kubernetes-versions.controller';
import { OperationsController } from './operations/operations.controller';
import { OperationsService } from './operations/operations.service';
import { ProviderOperationsController } from './operations/provider-operations.controller';
import { RunCommandController } from './run-command/run-command.controller';
import { RunCommandService } from './run-command/run-command.service';
import { ResourceGroupsController } from './resource-groups/resource-groups.controller';
import { SubscriptionsController } from './subscriptions/subscriptions.controller';
import { UpgradeProfilesController } from './upgrades/upgrade-profiles.controller';

@Module({
  imports: [ConfigModule, DatabaseModule, QueueModule, IdentityModule],
  controllers: [
    HealthController,
    SubscriptionsController,
    ResourceGroupsController,
    ClustersController,
    AgentPoolsController,
    ClusterActionsController,
    UpgradeProfilesController,
    CredentialsController,
    OperationsController,
    KubernetesVersionsController,
    ProviderOperationsController,
    RunCommandController,
    DeploymentsController,
    MachinesController,
    RoleAssignmentsController,
    RoleDefinitionsController,
    ActivityLogController,
  ],
  providers: [
    SubscriptionsService,
    ResourceGroupsService,
    ClustersService,
    AgentPoolsService,
    HostedResources,
    ClusterActionsService,
    ClusterCredentialRepository,
    CredentialsService,
    OperationsService,
    RunCommandService,
    DeploymentsService,
    TemplateEvaluationPool,
    MachinesService,
    AuthorizationService,
    RoleAssignmentsService,
    ActivityLogService,
    // Order matters: 401, then malformed route parameters, then api-version checks, then 429, then 403.
    { provide: APP_GUARD, useClass: BearerAuthGuard },
    { provide: APP_GUARD, useClass: RouteParamsGuard },
    { provide: APP_GUARD, useClass: ApiVersionGuard },
    { provide: APP_GUARD, useClass: ThrottleGuard },
    { provide: APP_GUARD, useClass: AuthorizationGuard },
    // Outermost first: the conditional-GET ETag is computed on the list the caller may see.
    { provide: APP_INTERCEPTOR, useClass: ConditionalGetInterceptor },
    { provide: APP_INTERCEPTOR, useClass: ListVisibilityInterceptor },
    { provide: APP_FILTER, useClass: ArmExceptionFilter },
    { provide: APP_PIPE, useFactory: armValidationPipe },
  ],
})
export class ApiModule {}
