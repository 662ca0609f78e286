import { validationErrorsToArmError } from '@cerulean/arm';
import { ConfigModule } from '@cerulean/config';
import { ClusterCredentialRepository, DatabaseModule } from '@cerulean/domain';
import { QueueModule } from '@cerulean/queue-contracts';
import { Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { AgentPoolsController } from './agent-pools/agent-pools.controller';
import { AgentPoolsService } from './agent-pools/agent-pools.service';
import { ClusterActionsController } from './clusters/cluster-actions.controller';
import { ClusterActionsService } from './clusters/cluster-actions.service';
import { ClustersController } from './clusters/clusters.controller';
import { ClustersService } from './clusters/clusters.service';
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
import { CredentialsController } from './credentials/credentials.controller';
import { CredentialsService } from './credentials/credentials.service';
import { HealthController } from './health.controller';
import { IdentityModule } from './identity/identity.module';
import { KubernetesVersionsController } from './operations/kubernetes-versions.controller';
import { OperationsController } from './operations/operations.controller';
import { OperationsService } from './operations/operations.service';
import { ProviderOperationsController } from './operations/provider-operations.controller';
import { RunCommandController } from './run-command/run-command.controller';
import { RunCommandService } from './run-command/run-command.service';
import { ResourceGroupsController } from './resource-groups/resource-groups.controller';
import { ResourceGroupsService } from './resource-groups/resource-groups.service';
import { SubscriptionsController } from './subscriptions/subscriptions.controller';
import { SubscriptionsService } from './subscriptions/subscriptions.service';
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
    RoleAssignmentsController,
    RoleDefinitionsController,
    ActivityLogController,
  ],
  providers: [
    SubscriptionsService,
    ResourceGroupsService,
    ClustersService,
    AgentPoolsService,
    ClusterActionsService,
    ClusterCredentialRepository,
    CredentialsService,
    OperationsService,
    RunCommandService,
    AuthorizationService,
    RoleAssignmentsService,
    ActivityLogService,
    // Order matters: 401, then api-version checks, then 429, then 403.
    { provide: APP_GUARD, useClass: BearerAuthGuard },
    { provide: APP_GUARD, useClass: ApiVersionGuard },
    { provide: APP_GUARD, useClass: ThrottleGuard },
    { provide: APP_GUARD, useClass: AuthorizationGuard },
    { provide: APP_INTERCEPTOR, useClass: ListVisibilityInterceptor },
    { provide: APP_FILTER, useClass: ArmExceptionFilter },
    {
      provide: APP_PIPE,
      // Unknown properties are kept (ARM keeps spec fields it does not act on), so no whitelist.
      useValue: new ValidationPipe({
        transform: true,
        whitelist: false,
        forbidUnknownValues: false,
        validateCustomDecorators: false,
        exceptionFactory: (errors) => validationErrorsToArmError(errors),
      }),
    },
  ],
})
export class ApiModule {}
