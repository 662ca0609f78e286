import { JsonObject } from '../values';
import { PlannedResource } from '../template/processor';
import { desiredResource, diff, whatIf } from './diff';
import { MANAGED_CLUSTER_WHAT_IF } from '@cerulean/catalog';

const ID =
  '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/my-resource-group/providers/Microsoft.ManagedIdentity/userAssignedIdentities/myExistingIdentity';
const identity = (extra: JsonObject = {}): JsonObject => ({
  name: 'myExistingIdentity',
  type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
  apiVersion: '2018-11-30',
  id: ID,
  location: 'westus2',
  ...extra,
});

describe('diff', () => {
  it('reproduces the spec example: a new tag is a Modify with one Create delta', () => {
    // deployments/stable/2026-09-01/examples/PostDeploymentWhatIfOnResourceGroup.json, first change.
    const after = identity({ tags: { myNewTag: 'my tag value' } });
    const before = identity();
    expect(diff(after, before, { resourceId: ID })).toEqual({
      resourceId: ID,
      changeType: 'Modify',
      before,
      after,
      delta: [{ path: 'tags.myNewTag', after: 'my tag value', propertyChangeType: 'Create' }],
    });
  });

  it('reports Create when the resource does not exist', () => {
    const after = identity({ name: 'myNewIdentity' });
    expect(diff(after, undefined, { resourceId: ID })).toEqual({ resourceId: ID, changeType: 'Create', after });
  });

  it('reports a live resource missing from the template as Ignore, or Delete in Complete mode', () => {
    expect(diff(undefined, identity(), { resourceId: ID }).changeType).toBe('Ignore');
    expect(diff(undefined, identity(), { resourceId: ID, mode: 'Complete' }).changeType).toBe('Delete');
  });

  it('reports NoChange for equal resources, ignoring id, apiVersion and case of name, type and location', () => {
    const live = identity({ name: 'MYEXISTINGIDENTITY', location: 'WestUS2', apiVersion: '2023-01-31', etag: 'x', systemData: {} });
    const change = diff(identity(), live, { resourceId: ID });
    expect(change.changeType).toBe('NoChange');
    expect(change.delta).toEqual([]);
  });

  it('reports modified and deleted properties with before and after', () => {
    const change = diff(identity({ tags: { a: '2' } }), identity({ tags: { a: '1', b: 'x' } }), { resourceId: ID, liveOnly: 'delete' });
    expect(change.delta).toEqual([
      { path: 'tags.a', propertyChangeType: 'Modify', before: '1', after: '2' },
      { path: 'tags.b', propertyChangeType: 'Delete', before: 'x' },
    ]);
  });

  it('ignores properties only the live resource has by default (server-set values)', () => {
    expect(diff(identity(), identity({ properties: { principalId: 'p' } }), { resourceId: ID }).changeType).toBe('NoChange');
  });

  it('reports array element changes by position with Array and child deltas', () => {
    const change = diff(identity({ zones: ['1', '3', '4'] }), identity({ zones: ['1', '2'] }), { resourceId: ID });
    expect(change.delta).toEqual([
      {
        path: 'zones',
        propertyChangeType: 'Array',
        children: [
          { path: '1', propertyChangeType: 'Modify', before: '2', after: '3' },
          { path: '2', propertyChangeType: 'Create', after: '4' },
        ],
      },
    ]);
  });

  it('reports Deploy when only deploy-time values could differ', () => {
    const change = diff(identity({ properties: { x: "[reference('a').b]" } }), identity({ properties: { x: 'live' } }), {
      resourceId: ID,
      deferred: ['properties.x'],
    });
    expect(change.changeType).toBe('Deploy');
  });

  it('reports NoEffect for properties the service ignores, without making it a Modify', () => {
    const change = diff(identity({ properties: { hint: 'x' } }), identity(), { resourceId: ID, normalizer: { noEffect: ['properties.hint'] } });
    expect(change.changeType).toBe('NoChange');
    expect(change.delta).toEqual([{ path: 'properties.hint', propertyChangeType: 'NoEffect', after: 'x' }]);
  });
});

describe('diff of managed clusters', () => {
  const CLUSTER = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1';
  const desired = (): JsonObject => ({
    id: CLUSTER,
    name: 'aks1',
    type: 'Microsoft.ContainerService/managedClusters',
    apiVersion: '2021-11-01-preview',
    location: 'westeurope',
    identity: { type: 'SystemAssigned' },
    properties: {
      dnsPrefix: 'aks1',
      agentPoolProfiles: [
        { name: 'agentpool', osDiskSizeGB: 0, count: 3, vmSize: 'Standard_D2s_v3', osType: 'Linux', mode: 'System' },
        { name: 'user', count: 1, vmSize: 'Standard_D2s_v3', mode: 'User' },
      ],
    },
  });
  const live = (): JsonObject => ({
    id: CLUSTER,
    name: 'aks1',
    type: 'Microsoft.ContainerService/managedClusters',
    location: 'WestEurope',
    identity: { type: 'SystemAssigned', principalId: 'p', tenantId: 't' },
    properties: {
      provisioningState: 'Succeeded',
      powerState: { code: 'Running' },
      fqdn: 'aks1-abc.hcp.westeurope.azmk8s.io',
      dnsPrefix: 'aks1',
      kubernetesVersion: '1.33.2',
      agentPoolProfiles: [
        { name: 'user', count: 1, vmSize: 'standard_d2s_v3', mode: 'User', provisioningState: 'Succeeded', osDiskSizeGB: 128 },
        { name: 'agentpool', count: 3, vmSize: 'Standard_D2s_v3', osType: 'Linux', mode: 'System', osDiskSizeGB: 128, nodeImageVersion: 'x' },
      ],
    },
  });

  it('reports NoChange for the live cluster the template describes, matching pools by name', () => {
    const change = diff(desired(), live(), { resourceId: CLUSTER, normalizer: MANAGED_CLUSTER_WHAT_IF });
    expect(change.changeType).toBe('NoChange');
    expect(change.delta).toEqual([]);
  });

  it('reports a changed pool count as a Modify on that pool only', () => {
    const d = desired();
    ((d['properties'] as JsonObject)['agentPoolProfiles'] as JsonObject[])[1]!['count'] = 5;
    const change = diff(d, live(), { resourceId: CLUSTER, normalizer: MANAGED_CLUSTER_WHAT_IF });
    expect(change.changeType).toBe('Modify');
    expect(change.delta).toEqual([
      {
        path: 'properties.agentPoolProfiles',
        propertyChangeType: 'Array',
        children: [
          {
            path: '1',
            propertyChangeType: 'Modify',
            before: expect.objectContaining({ name: 'user', count: 1 }) as JsonObject,
            after: expect.objectContaining({ name: 'user', count: 5 }) as JsonObject,
            children: [{ path: 'count', propertyChangeType: 'Modify', before: 1, after: 5 }],
          },
        ],
      },
    ]);
  });

  it('reports a new pool as created; a live pool the template leaves out stays (a cluster PUT keeps it)', () => {
    const d = desired();
    const pools = (d['properties'] as JsonObject)['agentPoolProfiles'] as JsonObject[];
    pools[1] = { name: 'gpu', count: 1, vmSize: 'Standard_NC6', mode: 'User' };
    const change = diff(d, live(), { resourceId: CLUSTER, normalizer: MANAGED_CLUSTER_WHAT_IF });
    expect(change.delta?.[0]?.children?.map((c) => [c.path, c.propertyChangeType])).toEqual([['1', 'Create']]);
  });

  it('reports NoChange when a pool the cluster has is declared as an agentPools resource instead of a profile', () => {
    // The golden nested-pool template: the cluster lists 'agentpool'; 'user' is a child agentPools resource.
    const d = desired();
    (d['properties'] as JsonObject)['agentPoolProfiles'] = [((d['properties'] as JsonObject)['agentPoolProfiles'] as JsonObject[])[0] as JsonObject];
    expect(diff(d, live(), { resourceId: CLUSTER, normalizer: MANAGED_CLUSTER_WHAT_IF }).changeType).toBe('NoChange');
  });

  it('reports a live element missing from a keyed array as Delete when the service does not keep such elements', () => {
    const d = desired();
    const pools = (d['properties'] as JsonObject)['agentPoolProfiles'] as JsonObject[];
    pools.splice(1, 1);
    const normalizer = { ...MANAGED_CLUSTER_WHAT_IF, keepLiveElements: [] };
    const change = diff(d, live(), { resourceId: CLUSTER, normalizer });
    expect(change.delta?.[0]?.children?.map((c) => [c.path, c.propertyChangeType])).toEqual([['0', 'Delete']]);
  });
});

describe('whatIf of child resources', () => {
  const CLUSTER = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1';
  const pool: PlannedResource = {
    id: `${CLUSTER}/agentPools/user`,
    type: 'Microsoft.ContainerService/managedClusters/agentPools',
    name: 'c1/user',
    apiVersion: '2025-07-01',
    condition: true,
    body: { properties: { count: 1, mode: 'User' } },
    deferred: [],
    dependsOn: [CLUSTER],
    source: { path: [1], loops: [] },
  };

  it('compares a child resource under the name GET answers (its last segment), not the template name', () => {
    // GET .../managedClusters/c1/agentPools/user answers "name": "user"; the template names it 'c1/user'.
    const live: JsonObject = { id: pool.id, name: 'user', type: pool.type, properties: { count: 1, mode: 'User', provisioningState: 'Succeeded' } };
    expect(desiredResource(pool)['name']).toBe('user');
    const plan = { resources: [pool] } as unknown as Parameters<typeof whatIf>[0];
    expect(whatIf(plan, { [pool.id]: live }).map((c) => [c.changeType, c.delta ?? []])).toEqual([['NoChange', []]]);
  });
});
