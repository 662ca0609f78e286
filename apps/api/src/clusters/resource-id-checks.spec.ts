import { catchArmError } from '../../../../test-support/catch-arm-error';
import { checkClusterResourceIds, checkResourceIds, POOL_PROPERTIES_MODEL } from './resource-id-checks';

const subnet = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes';
const identity = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet';

describe('checkClusterResourceIds', () => {
  it("refuses a cluster's reference to another resource that is not a resource id, naming the property", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ diskEncryptionSetID: 'des1' }, 'properties.diskEncryptionSetID'],
      [{ apiServerAccessProfile: { subnetId: '.#\\|)@' } }, 'properties.apiServerAccessProfile.subnetId'],
      [{ identityProfile: { kubeletidentity: { resourceId: 'kubelet', clientId: 'c' } } }, 'properties.identityProfile.kubeletidentity.resourceId'],
      [
        { networkProfile: { loadBalancerProfile: { outboundIPs: { publicIPs: [{ id: identity }, { id: 'ip2' }] } } } },
        'properties.networkProfile.loadBalancerProfile.outboundIPs.publicIPs[1].id',
      ],
      [
        { ingressProfile: { webAppRouting: { dnsZoneResourceIds: ['/subscriptions/s/resourceGroups/rg'] } } },
        'properties.ingressProfile.webAppRouting.dnsZoneResourceIds[0]',
      ],
      [{ agentPoolProfiles: [{ name: 'np1', vnetSubnetID: 42 }] }, 'properties.agentPoolProfiles[0].vnetSubnetID'],
    ];
    for (const [properties, target] of cases) {
      const err = catchArmError(() => checkClusterResourceIds({ location: 'eastus', properties }));
      expect(err).toMatchObject({ status: 400, code: 'InvalidParameter', target });
      expect(err.message).toContain('must be the full ID of an Azure resource');
    }
  });

  it('accepts full ids, empty strings, nulls and whatever the spec does not mark as a resource id', () => {
    expect(() =>
      checkClusterResourceIds({
        location: 'eastus',
        id: 'not checked: read-only, ignored',
        properties: {
          diskEncryptionSetID: '',
          apiServerAccessProfile: { subnetId: null },
          identityProfile: { kubeletidentity: { resourceId: identity } },
          agentPoolProfiles: [{ name: 'np1', vnetSubnetID: subnet, podSubnetID: '' }],
          dnsPrefix: 'not/an/id',
        },
      }),
    ).not.toThrow();
  });
});

describe('checkResourceIds of a pool', () => {
  it('names the property under the target it is given', () => {
    expect(catchArmError(() => checkResourceIds({ creationData: { sourceResourceId: 'snap' } }, POOL_PROPERTIES_MODEL, 'properties'))).toMatchObject({
      target: 'properties.creationData.sourceResourceId',
    });
    expect(() => checkResourceIds({ networkProfile: { applicationSecurityGroups: [subnet] } }, POOL_PROPERTIES_MODEL, 'properties')).not.toThrow();
  });
});
