import { agentPoolId, locationScopedId, managedClusterId, Namespaces, resourceGroupId, resourceKey, ResourceTypes, subscriptionId } from './resource-id';

const SUB = '00000000-0000-0000-0000-000000000001';

describe('resource ids (R1.5)', () => {
  it('builds a subscription id', () => {
    expect(subscriptionId(SUB)).toBe(`/subscriptions/${SUB}`);
  });

  it('builds a resource group id with the canonical resourceGroups segment and the name as given', () => {
    expect(resourceGroupId(SUB, 'MyRG')).toBe(`/subscriptions/${SUB}/resourceGroups/MyRG`);
  });

  it('builds a cluster id with the canonical namespace and type', () => {
    expect(managedClusterId(SUB, 'rG1', 'Foo')).toBe(`/subscriptions/${SUB}/resourceGroups/rG1/providers/Microsoft.ContainerService/managedClusters/Foo`);
  });

  it('builds an agent pool id under its cluster', () => {
    expect(agentPoolId(SUB, 'rg', 'Foo', 'nodepool1')).toBe(
      `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/Foo/agentPools/nodepool1`,
    );
  });

  it('builds a location-scoped id such as an operation status', () => {
    expect(locationScopedId(SUB, Namespaces.ContainerService, 'westus', 'operations', 'op1')).toBe(
      `/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westus/operations/op1`,
    );
  });

  it('keeps a name that looks like a fixed segment as given', () => {
    expect(managedClusterId(SUB, 'providers', 'PROVIDERS')).toBe(
      `/subscriptions/${SUB}/resourceGroups/providers/providers/Microsoft.ContainerService/managedClusters/PROVIDERS`,
    );
  });

  it('does not URL-encode names', () => {
    expect(resourceGroupId(SUB, 'rg(1)')).toBe(`/subscriptions/${SUB}/resourceGroups/rg(1)`);
  });

  it('spells resource types as Namespace/type[/childType]', () => {
    expect(ResourceTypes.managedClusters).toBe('Microsoft.ContainerService/managedClusters');
    expect(ResourceTypes.agentPools).toBe('Microsoft.ContainerService/managedClusters/agentPools');
    expect(ResourceTypes.resourceGroups).toBe('Microsoft.Resources/resourceGroups');
  });
});

describe('resourceKey (R1.2)', () => {
  const sut = resourceKey;

  it('gives the same key for any casing of the same id', () => {
    const canonical = managedClusterId(SUB, 'rG1', 'Foo');
    const shouted = `/SUBSCRIPTIONS/${SUB}/resourcegroups/RG1/providers/microsoft.containerservice/MANAGEDCLUSTERS/foo`;

    expect(sut(shouted)).toBe(sut(canonical));
  });

  it('gives different keys for different names', () => {
    expect(sut(managedClusterId(SUB, 'rg', 'a'))).not.toBe(sut(managedClusterId(SUB, 'rg', 'b')));
  });
});

describe('parseResourceId', () => {
  const { parseResourceId } = jest.requireActual<typeof import('./resource-id')>('./resource-id');
  it('parses subscription, group and nested resource ids', () => {
    expect(parseResourceId('/subscriptions/s1')).toEqual({ subscriptionId: 's1' });
    expect(parseResourceId('/subscriptions/s1/resourceGroups/g1')).toEqual({ subscriptionId: 's1', resourceGroup: 'g1' });
    expect(parseResourceId('/subscriptions/s1/resourceGroups/g1/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p')).toEqual({
      subscriptionId: 's1',
      resourceGroup: 'g1',
      type: 'Microsoft.ContainerService/managedClusters/agentPools',
      name: 'c/p',
    });
    expect(parseResourceId('/subscriptions/s1/providers/Microsoft.Resources/deployments/d')).toEqual({
      subscriptionId: 's1',
      type: 'Microsoft.Resources/deployments',
      name: 'd',
    });
  });

  it.each([
    '//127.0.0.1:6379/x',
    'https://h/subscriptions/s',
    'subscriptions/s',
    '/subscriptions',
    '/subscriptions//resourceGroups/g',
    '/subscriptions/s/../x',
    '/subscriptions/s/resourceGroups/g/providers/Microsoft.X/t',
    '/subscriptions/s/resourceGroups/g/providers/Microsoft.X/t/n?api-version=1',
    '/subscriptions/s/resourceGroups/g%2F..',
    '/subscriptions/s/resourceGroups/g\\x',
    '/subscriptions/s/resourceGroups/g:6379',
    '/providers/Microsoft.X/t/n',
    '/subscriptions/s/other/x',
  ])('refuses %j', (id) => {
    expect(parseResourceId(id)).toBeUndefined();
  });
});
