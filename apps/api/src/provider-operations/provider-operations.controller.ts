import { ApiVersions } from '@cerulean/arm';
import { Controller, Get } from '@nestjs/common';
import { ArmApiVersions } from '../common/api-version.guard';

const OPERATIONS = [
  ['managedClusters/read', 'Get Managed Cluster', 'Gets a managed cluster'],
  ['managedClusters/write', 'Create or Update Managed Cluster', 'Creates a new managed cluster or updates an existing one'],
  ['managedClusters/delete', 'Delete Managed Cluster', 'Deletes a managed cluster'],
  ['managedClusters/agentPools/read', 'Get Agent Pool', 'Gets an agent pool'],
  ['managedClusters/agentPools/write', 'Create or Update Agent Pool', 'Creates a new agent pool or updates an existing one'],
  ['managedClusters/agentPools/delete', 'Delete Agent Pool', 'Deletes an agent pool'],
  ['managedClusters/maintenanceConfigurations/read', 'Get Maintenance Configuration', 'Gets a maintenance configuration'],
  [
    'managedClusters/maintenanceConfigurations/write',
    'Create or Update Maintenance Configuration',
    'Creates a new maintenance configuration or updates an existing one',
  ],
  ['managedClusters/maintenanceConfigurations/delete', 'Delete Maintenance Configuration', 'Deletes a maintenance configuration'],
  ['locations/operations/read', 'Get Operation', 'Gets the status of an asynchronous operation'],
  ['locations/kubernetesVersions/read', 'List Kubernetes Versions', 'Lists the Kubernetes versions available in a location'],
] as const;

/** `GET /providers/Microsoft.ContainerService/operations` (tenant level). */
@Controller()
@ArmApiVersions(ApiVersions.containerService, 'Microsoft.ContainerService/operations')
export class ProviderOperationsController {
  @Get('providers/Microsoft.ContainerService/operations')
  list() {
    return {
      value: OPERATIONS.map(([op, operation, description]) => {
        const resource = op.split('/').slice(0, -1).join('/');
        return {
          name: `Microsoft.ContainerService/${op}`,
          display: { provider: 'Microsoft Container Service', resource, operation, description },
          origin: 'user,system',
        };
      }),
    };
  }
}
