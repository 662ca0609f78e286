import { resourceGroupId } from '@cerulean/arm';
import { ResourceGroupEntity } from '@cerulean/domain';

/** A resource group as ARM answers it. */
export const toResourceGroup = (rg: ResourceGroupEntity) => ({
  id: resourceGroupId(rg.subscriptionId, rg.name),
  name: rg.name,
  type: 'Microsoft.Resources/resourceGroups',
  location: rg.location,
  ...(rg.managedBy ? { managedBy: rg.managedBy } : {}),
  tags: rg.tags,
  properties: { provisioningState: rg.provisioningState },
});
