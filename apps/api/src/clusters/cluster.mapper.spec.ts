import { AKS_RESPONSE_MODEL, projectToModel } from '@cerulean/catalog';
import { AgentPoolEntity, ManagedClusterEntity } from '@cerulean/domain';
import { toAgentPool, toManagedCluster } from './cluster.mapper';

const systemData = {
  createdBy: 'u',
  createdByType: 'User',
  createdAt: '2026-12-01T00:00:00Z',
  lastModifiedBy: 'u',
  lastModifiedByType: 'User',
  lastModifiedAt: '2026-12-01T00:00:00Z',
};
const error = { code: 'NodeFailed', message: 'a node failed' };

const cluster = (over: Partial<ManagedClusterEntity> = {}) =>
  Object.assign(new ManagedClusterEntity(), {
    id: '2f1b7a34-5a0e-4c59-9d1b-7f3e0e8a1c11',
    subscriptionId: '3f2e1d0c-9b8a-4765-8432-10fedcba9876',
    name: 'c1',
    location: 'westeurope',
    tags: { team: 'a' },
    sku: { name: 'Base', tier: 'Standard' },
    identity: { type: 'SystemAssigned', principalId: '11111111-1111-4111-8111-111111111111', tenantId: '22222222-2222-4222-8222-222222222222' },
    kind: null,
    properties: {
      enableRBAC: true,
      aadProfile: { managed: true, enableAzureRBAC: true },
      autoUpgradeProfile: { upgradeChannel: 'patch', nodeOSUpgradeChannel: 'NodeImage' },
      networkProfile: { networkPlugin: 'kubenet', podCidr: '10.244.0.0/16' },
      oidcIssuerProfile: { enabled: true },
    },
    kubernetesVersion: '1.33.4',
    currentKubernetesVersion: null,
    dnsPrefix: 'c1',
    fqdn: 'c1-abc.hcp.westeurope.cerulean.local',
    nodeResourceGroup: 'MC_rg_c1_westeurope',
    provisioningState: 'Failed',
    powerState: 'Running',
    etag: 'e1',
    systemData,
    provisioningError: error,
    ...over,
  });

const pool = (name: string, over: Partial<AgentPoolEntity> = {}) =>
  Object.assign(new AgentPoolEntity(), {
    name,
    nameKey: name,
    mode: 'System',
    count: 2,
    vmSize: 'Standard_D2s_v3',
    osType: 'Linux',
    osSku: 'Ubuntu',
    osDiskSizeGb: 128,
    maxPods: 110,
    orchestratorVersion: '1.33.4',
    currentOrchestratorVersion: null,
    nodeImageVersion: 'AKSUbuntu-2204gen2containerd-202611.01.0',
    availabilityZones: ['1', '2'],
    enableAutoScaling: true,
    minCount: 1,
    maxCount: 3,
    nodeLabels: { tier: 'web' },
    nodeTaints: ['k=v:NoSchedule'],
    tags: { t: 'v' },
    upgradeSettings: { maxSurge: '33%' },
    properties: {},
    provisioningState: 'Failed',
    powerState: 'Running',
    etag: 'p1',
    systemData,
    provisioningError: error,
    createdAt: new Date('2026-12-01T00:00:00Z'),
    ...over,
  });

describe('cluster mapper and the stable response model', () => {
  // The model only hides what a client sent at an older version: everything the platform itself answers is in it.
  it('answers nothing the current stable model lacks, for a cluster and a pool with every server-set field', () => {
    const c = cluster();
    const pools = [pool('np1'), pool('np2', { mode: 'User', enableAutoScaling: false, minCount: null, maxCount: null, provisioningError: null })];
    const body = toManagedCluster(c, 'rg', pools);
    expect(projectToModel(body, AKS_RESPONSE_MODEL.managedCluster)).toEqual(body);
    const auto = toManagedCluster(cluster({ sku: { name: 'Automatic', tier: 'Standard' }, provisioningError: null }), 'rg', pools);
    expect(projectToModel(auto, AKS_RESPONSE_MODEL.managedCluster)).toEqual(auto);
    const agentPool = toAgentPool(c, 'rg', pools[0]);
    expect(projectToModel(agentPool, AKS_RESPONSE_MODEL.agentPool)).toEqual(agentPool);
  });

  it("keeps an old template's retired properties in storage and leaves them out of the stable view", () => {
    const c = cluster({ properties: { networkProfile: { networkPlugin: 'kubenet', dockerBridgeCidr: '172.17.0.1/16' } } });
    const body = toManagedCluster(c, 'rg', [pool('np1', { properties: { storageProfile: 'ManagedDisks' } })]);
    expect(body.properties.networkProfile).toHaveProperty('dockerBridgeCidr');
    const view = projectToModel(body, AKS_RESPONSE_MODEL.managedCluster) as typeof body;
    expect(view.properties.networkProfile).not.toHaveProperty('dockerBridgeCidr');
    expect(view.properties.networkProfile).toMatchObject({ networkPlugin: 'kubenet' });
    expect(view.properties.agentPoolProfiles[0]).not.toHaveProperty('storageProfile');
    expect(view.properties.agentPoolProfiles[0]).toMatchObject({ name: 'np1', count: 2 });
  });
});
