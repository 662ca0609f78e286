import { Module } from '@nestjs/common';
import { ClustersModule } from '../clusters/clusters.module';
import { IdentityModule } from '../identity/identity.module';
import { ResourceGroupsModule } from '../resource-groups/resource-groups.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { AuthorizationService } from './authorization.service';
import { RoleAssignmentsController, RoleDefinitionsController } from './role-assignments.controller';
import { RoleAssignmentsService } from './role-assignments.service';

/**
 * Role assignments and definitions, and the grants they make. Exports AuthorizationService for the global
 * AuthorizationGuard that ApiModule registers.
 */
@Module({
  imports: [IdentityModule, SubscriptionsModule, ResourceGroupsModule, ClustersModule],
  controllers: [RoleAssignmentsController, RoleDefinitionsController],
  providers: [AuthorizationService, RoleAssignmentsService],
  exports: [AuthorizationService],
})
export class AuthorizationModule {}
