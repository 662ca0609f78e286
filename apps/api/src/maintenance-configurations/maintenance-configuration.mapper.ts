import { managedClusterId, SystemData } from '@cerulean/arm';
import { MaintenanceConfigurationEntity } from '@cerulean/domain';

export const MAINTENANCE_CONFIGURATION_TYPE = 'Microsoft.ContainerService/managedClusters/maintenanceConfigurations';

// maintenanceWindow came with api-version 2023-05-01; older versions' bodies have no such property.
const MAINTENANCE_WINDOW_SINCE = '2023-05-01';

export interface MaintenanceConfiguration {
  id: string;
  name: string;
  type: string;
  systemData: SystemData;
  properties: Record<string, unknown>;
}

/** AKS `MaintenanceConfiguration` (a proxy resource: no location, no tags) in the shape of the requested api-version. */
export function toMaintenanceConfiguration(
  owner: { subscriptionId: string; resourceGroup: string; cluster: string },
  config: MaintenanceConfigurationEntity,
  apiVersion: string,
): MaintenanceConfiguration {
  const properties = { ...config.properties };
  if (apiVersion.slice(0, 10) < MAINTENANCE_WINDOW_SINCE) delete properties.maintenanceWindow;
  return {
    id: `${managedClusterId(owner.subscriptionId, owner.resourceGroup, owner.cluster)}/maintenanceConfigurations/${config.name}`,
    name: config.name,
    type: MAINTENANCE_CONFIGURATION_TYPE,
    systemData: config.systemData,
    properties,
  };
}
