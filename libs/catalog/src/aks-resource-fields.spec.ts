import { managedClusterIdentity, managedClusterServerProperties, stableGuid } from './aks-resource-fields';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TENANT = '11111111-2222-3333-4444-555555555555';

describe('stableGuid', () => {
  it('is a well-formed GUID, the same for the same seed and different for another', () => {
    expect(stableGuid('a')).toMatch(GUID);
    expect(stableGuid('a')).toBe(stableGuid('a'));
    expect(stableGuid('a')).not.toBe(stableGuid('b'));
  });
});

describe('managedClusterIdentity', () => {
  it('gives a system-assigned identity a principal id (kept on update) and the installation tenant', () => {
    const created = managedClusterIdentity({ type: 'SystemAssigned' }, null, { tenantId: TENANT });
    expect(created).toEqual({ type: 'SystemAssigned', principalId: expect.stringMatching(/^[0-9a-f-]{36}$/), tenantId: TENANT });
    // A PUT that sends the GET body back (az aks update) keeps the ids.
    expect(managedClusterIdentity({ ...created, principalId: 'sent-back' }, created, { tenantId: TENANT })).toEqual(created);
  });

  it('defaults to a system-assigned identity unless a service principal is given, as AKS does', () => {
    expect(managedClusterIdentity(undefined, null, { tenantId: TENANT })).toMatchObject({ type: 'SystemAssigned', tenantId: TENANT });
    expect(managedClusterIdentity(undefined, null, { tenantId: TENANT, servicePrincipalClientId: 'msi' })).toMatchObject({ type: 'SystemAssigned' });
    expect(managedClusterIdentity(undefined, null, { tenantId: TENANT, servicePrincipalClientId: 'a-real-app-id' })).toBeNull();
    const kept = { type: 'SystemAssigned', principalId: 'p', tenantId: TENANT };
    expect(managedClusterIdentity(undefined, kept, { tenantId: TENANT })).toBe(kept);
  });

  it('fills the ids of each user-assigned identity from its resource id', () => {
    const id = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/cp';
    const out = managedClusterIdentity({ type: 'UserAssigned', userAssignedIdentities: { [id]: {} } }, null, { tenantId: TENANT });
    expect(out).toEqual({
      type: 'UserAssigned',
      userAssignedIdentities: { [id]: { principalId: expect.stringMatching(GUID), clientId: expect.stringMatching(GUID) } },
    });
  });
});

describe('managedClusterServerProperties', () => {
  const facts = {
    subscriptionId: 'sub1',
    name: 'c1',
    nodeResourceGroup: 'MC_rg_c1_eastus',
    identity: { type: 'SystemAssigned' },
    properties: {},
    autoscaled: false,
  };

  it("carries a managed-identity cluster's kubelet identity in the node resource group, and servicePrincipalProfile msi", () => {
    const props = managedClusterServerProperties(facts);
    expect(props.identityProfile).toEqual({
      kubeletidentity: {
        resourceId: '/subscriptions/sub1/resourcegroups/MC_rg_c1_eastus/providers/Microsoft.ManagedIdentity/userAssignedIdentities/c1-agentpool',
        clientId: expect.stringMatching(GUID),
        objectId: expect.stringMatching(GUID),
      },
    });
    expect(props.servicePrincipalProfile).toEqual({ clientId: 'msi' });
    expect(managedClusterServerProperties(facts).identityProfile).toEqual(props.identityProfile);
  });

  it('keeps a kubelet identity the user named, with its ids', () => {
    const resourceId = '/subscriptions/sub1/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/kubelet';
    const props = managedClusterServerProperties({ ...facts, properties: { identityProfile: { kubeletidentity: { resourceId } } } });
    expect((props.identityProfile as { kubeletidentity: { resourceId: string } }).kubeletidentity.resourceId).toBe(resourceId);
  });

  it('fills left-out profiles with AKS defaults but never overrides what the user set', () => {
    const props = managedClusterServerProperties({ ...facts, properties: { oidcIssuerProfile: { enabled: true } } });
    expect(props).toMatchObject({
      oidcIssuerProfile: { enabled: true },
      disableLocalAccounts: false,
      autoUpgradeProfile: { nodeOSUpgradeChannel: 'NodeImage' },
    });
    expect(props.autoScalerProfile).toBeUndefined();
  });

  it('reports the autoscaler settings when a pool autoscales, the user’s over the defaults', () => {
    const props = managedClusterServerProperties({ ...facts, autoscaled: true, properties: { autoScalerProfile: { 'scan-interval': '20s' } } });
    expect(props.autoScalerProfile).toMatchObject({ 'scan-interval': '20s', expander: 'random', 'daemonset-eviction-for-occupied-nodes': true });
  });

  it('adds no identity fields to a service-principal cluster', () => {
    const props = managedClusterServerProperties({ ...facts, identity: null, properties: { servicePrincipalProfile: { clientId: 'app' } } });
    expect(props.identityProfile).toBeUndefined();
    expect(props.servicePrincipalProfile).toEqual({ clientId: 'app' });
  });
});
