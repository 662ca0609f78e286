import { DataSource } from 'typeorm';
import { InitialSchema1763760000000 } from '../../../migrations/1763760000000-InitialSchema';
import { ClusterCredentials1763900000000 } from '../../../migrations/1763900000000-ClusterCredentials';
import { CommandResults1763900100000 } from '../../../migrations/1763900100000-CommandResults';
import { DayTwoOperations1763900200000 } from '../../../migrations/1763900200000-DayTwoOperations';
import { Deployments1763900300000 } from '../../../migrations/1763900300000-Deployments';
import { ServicePrincipals1764000000000 } from '../../../migrations/1764000000000-ServicePrincipals';
import { RoleAssignments1764000100000 } from '../../../migrations/1764000100000-RoleAssignments';
import { ActivityLog1764000200000 } from '../../../migrations/1764000200000-ActivityLog';
import { OperationsListIndex1764000300000 } from '../../../migrations/1764000300000-OperationsListIndex';
import { RoleAssignmentsNotify1764100000000 } from '../../../migrations/1764100000000-RoleAssignmentsNotify';
import { PrincipalsNotify1764200000000 } from '../../../migrations/1764200000000-PrincipalsNotify';
import { TenantActivityLog1764300000000 } from '../../../migrations/1764300000000-TenantActivityLog';
import { MaintenanceConfigurations1764400000000 } from '../../../migrations/1764400000000-MaintenanceConfigurations';
import { AgentPoolMachinesToDelete1764500000000 } from '../../../migrations/1764500000000-AgentPoolMachinesToDelete';
import { ENTITIES } from './entities';

/** Every migration, in order. The schema changes only through these (synchronize is off everywhere). */
export const MIGRATIONS = [
  InitialSchema1763760000000,
  ClusterCredentials1763900000000,
  CommandResults1763900100000,
  DayTwoOperations1763900200000,
  Deployments1763900300000,
  ServicePrincipals1764000000000,
  RoleAssignments1764000100000,
  ActivityLog1764000200000,
  OperationsListIndex1764000300000,
  RoleAssignmentsNotify1764100000000,
  PrincipalsNotify1764200000000,
  TenantActivityLog1764300000000,
  MaintenanceConfigurations1764400000000,
  AgentPoolMachinesToDelete1764500000000,
];

export function createDataSource(url: string, applicationName = 'cerulean'): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    applicationName,
    extra: { max: 20 },
  });
}
