import { ConfigModule } from '@cerulean/config';
import { DatabaseModule } from '@cerulean/domain';
import { QueueModule } from '@cerulean/queue-contracts';
import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { ActivityLogModule } from './activity-log/activity-log.module';
import { AgentPoolsModule } from './agent-pools/agent-pools.module';
import { AuthorizationGuard } from './authorization/authorization.guard';
import { AuthorizationModule } from './authorization/authorization.module';
import { ThrottleGuard } from './authorization/throttle.guard';
import { ClustersModule } from './clusters/clusters.module';
import { ApiVersionGuard } from './common/api-version.guard';
import { ArmExceptionFilter } from './common/arm-exception.filter';
import { RouteParamsGuard } from './common/route-params.guard';
import { armValidationPipe } from './common/validation';
import { CredentialsModule } from './credentials/credentials.module';
import { DeploymentsModule } from './deployments/deployments.module';
import { HealthModule } from './health/health.module';
import { BearerAuthGuard } from './identity/bearer-auth.guard';
import { IdentityModule } from './identity/identity.module';
import { KubernetesVersionsModule } from './kubernetes-versions/kubernetes-versions.module';
import { MachinesModule } from './machines/machines.module';
import { MaintenanceConfigurationsModule } from './maintenance-configurations/maintenance-configurations.module';
import { OperationsModule } from './operations/operations.module';
import { ProviderOperationsModule } from './provider-operations/provider-operations.module';
import { ResourceGroupsModule } from './resource-groups/resource-groups.module';
import { ResponseInterceptor } from './response.interceptor';
import { RunCommandModule } from './run-command/run-command.module';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';
import { UpgradesModule } from './upgrades/upgrades.module';

/** The infrastructure, the feature modules, and the global guards, interceptors, filter and pipe. */
@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    QueueModule,
    HealthModule,
    SubscriptionsModule,
    ResourceGroupsModule,
    ClustersModule,
    AgentPoolsModule,
    UpgradesModule,
    CredentialsModule,
    OperationsModule,
    KubernetesVersionsModule,
    ProviderOperationsModule,
    RunCommandModule,
    DeploymentsModule,
    MachinesModule,
    MaintenanceConfigurationsModule,
    AuthorizationModule,
    ActivityLogModule,
    IdentityModule,
  ],
  providers: [
    // Order matters: 401, then malformed route parameters, then api-version checks, then 429, then 403.
    { provide: APP_GUARD, useClass: BearerAuthGuard },
    { provide: APP_GUARD, useClass: RouteParamsGuard },
    { provide: APP_GUARD, useClass: ApiVersionGuard },
    { provide: APP_GUARD, useClass: ThrottleGuard },
    { provide: APP_GUARD, useClass: AuthorizationGuard },
    // The stable model's view, then the list items the caller may see, then the conditional-GET ETag of that.
    { provide: APP_INTERCEPTOR, useClass: ResponseInterceptor },
    { provide: APP_FILTER, useClass: ArmExceptionFilter },
    { provide: APP_PIPE, useFactory: armValidationPipe },
  ],
})
export class ApiModule {}
