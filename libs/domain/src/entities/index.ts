import { ActivityLogEntity } from './activity-log.entity';
import { AgentPoolEntity } from './agent-pool.entity';
import { ClusterCredentialsEntity } from './cluster-credentials.entity';
import { CommandResultEntity } from './command-result.entity';
import { DeploymentEntity, DeploymentOperationEntity, WhatIfResultEntity } from './deployment.entity';
import { InstallationEntity } from './installation.entity';
import { MaintenanceConfigurationEntity } from './maintenance-configuration.entity';
import { ManagedClusterEntity } from './managed-cluster.entity';
import { NodeEventEntity } from './node-event.entity';
import { OperationEntity } from './operation.entity';
import { ResourceGroupEntity } from './resource-group.entity';
import { RoleAssignmentEntity } from './role-assignment.entity';
import { ServicePrincipalEntity, ServicePrincipalSecretEntity } from './service-principal.entity';
import { SubscriptionEntity } from './subscription.entity';

export {
  ActivityLogEntity,
  AgentPoolEntity,
  ClusterCredentialsEntity,
  CommandResultEntity,
  DeploymentEntity,
  DeploymentOperationEntity,
  InstallationEntity,
  MaintenanceConfigurationEntity,
  ManagedClusterEntity,
  NodeEventEntity,
  OperationEntity,
  ResourceGroupEntity,
  RoleAssignmentEntity,
  ServicePrincipalEntity,
  ServicePrincipalSecretEntity,
  SubscriptionEntity,
  WhatIfResultEntity,
};

export { CommandState } from './command-result.entity';

export const ENTITIES = [
  SubscriptionEntity,
  ResourceGroupEntity,
  ManagedClusterEntity,
  AgentPoolEntity,
  OperationEntity,
  InstallationEntity,
  ClusterCredentialsEntity,
  CommandResultEntity,
  NodeEventEntity,
  DeploymentEntity,
  DeploymentOperationEntity,
  WhatIfResultEntity,
  ServicePrincipalEntity,
  ServicePrincipalSecretEntity,
  RoleAssignmentEntity,
  ActivityLogEntity,
  MaintenanceConfigurationEntity,
];
