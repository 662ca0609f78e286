import { MANAGED_CLUSTER_WHAT_IF } from '@cerulean/catalog';
import { JsonObject } from '../values';
import { diff } from './diff';

const CLUSTER = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1';
const cluster = (servicePrincipalProfile: JsonObject): JsonObject => ({
  id: CLUSTER,
  name: 'aks1',
  type: 'Microsoft.ContainerService/managedClusters',
  location: 'westeurope',
  properties: { dnsPrefix: 'aks1', servicePrincipalProfile },
});

// The Bicep 101-aks sample passes servicePrincipalClientSecret on every deployment; GET never returns it.
describe('what-if of a cluster write-only secret', () => {
  it('is no change when the template sets servicePrincipalProfile.secret, which the live cluster never shows', () => {
    const change = diff(cluster({ clientId: 'msi', secret: 's3cret' }), cluster({ clientId: 'msi' }), {
      resourceId: CLUSTER,
      normalizer: MANAGED_CLUSTER_WHAT_IF,
    });
    expect(change.changeType).toBe('NoChange');
  });

  it('still reports a changed clientId beside it', () => {
    const change = diff(cluster({ clientId: 'other', secret: 's3cret' }), cluster({ clientId: 'msi' }), {
      resourceId: CLUSTER,
      normalizer: MANAGED_CLUSTER_WHAT_IF,
    });
    expect(change.changeType).toBe('Modify');
    expect(change.delta?.map((d) => d.path)).toEqual(['properties.servicePrincipalProfile.clientId']);
  });
});
