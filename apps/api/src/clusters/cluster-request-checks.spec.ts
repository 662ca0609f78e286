import { managedClusterServerProperties } from '@cerulean/catalog';
import { catchArmError } from '../../../../test-support/catch-arm-error';
import { automaticVmSize } from './agent-pool-settings';
import { checkAutomaticPool, checkNewCluster, checkPoolRequest } from './cluster-request-checks';
import { ManagedClusterBodyDto } from './dto/managed-cluster.dto';

const body = (over: Partial<ManagedClusterBodyDto> = {}, properties: Record<string, unknown> = {}): ManagedClusterBodyDto =>
  ({ location: 'eastus', sku: { name: 'Automatic', tier: 'Standard' }, identity: { type: 'SystemAssigned' }, ...over, properties }) as ManagedClusterBodyDto;

describe('checkNewCluster for sku Automatic', () => {
  it('gives an Automatic cluster created without pools its system pool `systempool`: System, 1 node, the Automatic VM size', () => {
    const sut = checkNewCluster(body());

    expect(sut.pools).toHaveLength(1);
    expect(sut.pools[0].name).toBe('systempool');
    expect(sut.pools[0].settings).toMatchObject({ mode: 'System', count: 1, vmSize: 'Standard_D4ds_v5', osType: 'Linux', enableAutoScaling: false });
  });

  it('picks the first size of its preference list that the catalog offers', () => {
    expect(automaticVmSize()).toBe('Standard_D4ds_v5');
  });

  it("gives the request's pools that name no VM size (az sends '') the Automatic size, and adds no system pool of its own", () => {
    const sut = checkNewCluster(body({}, { agentPoolProfiles: [{ name: 'nodepool1', vmSize: '', mode: 'System', count: 2 }] }));

    expect(sut.pools.map((p) => [p.name, p.settings.vmSize, p.settings.count])).toEqual([['nodepool1', 'Standard_D4ds_v5', 2]]);
  });

  it('leaves a Base cluster without pools refused as before', () => {
    const err = catchArmError(() => checkNewCluster(body({ sku: { name: 'Base' } })));

    expect([err.status, err.code, err.message]).toEqual([400, 'InvalidParameter', 'Must define at least one system pool.']);
  });

  it("keeps a Base cluster's pools on AKS's Standard_DS2_v2", () => {
    const sut = checkNewCluster(body({ sku: { name: 'Base' } }, { agentPoolProfiles: [{ name: 'nodepool1', vmSize: '' }] }));

    expect(sut.pools[0].settings.vmSize).toBe('Standard_DS2_v2');
  });

  it.each([
    ['identity None', body({ identity: { type: 'None' } }), 'identity'],
    ['a service principal', body({ identity: undefined }, { servicePrincipalProfile: { clientId: 'abc', secret: 's' } }), 'identity'],
    ['node provisioning Manual', body({}, { nodeProvisioningProfile: { mode: 'Manual' } }), 'properties.nodeProvisioningProfile.mode'],
    [
      'a pool with the cluster autoscaler',
      body({}, { agentPoolProfiles: [{ name: 'np', mode: 'System', count: 1, enableAutoScaling: true, minCount: 1, maxCount: 3 }] }),
      'properties.agentPoolProfiles[0].enableAutoScaling',
    ],
    [
      'SSH keys',
      body({}, { linuxProfile: { adminUsername: 'azureuser', ssh: { publicKeys: [{ keyData: 'ssh-rsa AAAA' }] } } }),
      'properties.linuxProfile.ssh.publicKeys',
    ],
    ['kubenet', body({}, { networkProfile: { networkPlugin: 'kubenet' } }), 'properties.networkProfile.networkPlugin'],
  ])('refuses %s with 400 InvalidParameter on its property', (_what, request, target) => {
    const err = catchArmError(() => checkNewCluster(request));

    expect([err.status, err.code, err.target]).toEqual([400, 'InvalidParameter', target]);
  });

  it('accepts an Automatic cluster left without identity (it gets a system-assigned one) and with node provisioning Auto', () => {
    expect(checkNewCluster(body({ identity: undefined }, { nodeProvisioningProfile: { mode: 'auto' } })).pools).toHaveLength(1);
  });
});

describe('checkAutomaticPool', () => {
  it('refuses the cluster autoscaler on a pool of an Automatic cluster, and lets a fixed-size pool pass', () => {
    const err = catchArmError(() => checkAutomaticPool({ name: 'user1', enableAutoScaling: true, target: 'properties' }));

    expect([err.status, err.code, err.target]).toEqual([400, 'InvalidParameter', 'properties.enableAutoScaling']);
    expect(() => checkAutomaticPool({ name: 'user1', enableAutoScaling: false, target: 'properties' })).not.toThrow();
  });

  it("is part of a pool request's checks (template preflight) when the parent cluster is Automatic, and only then", () => {
    const autoscaled = { enableAutoScaling: true, minCount: 1, maxCount: 2, count: 1 };
    const parent = { location: 'eastus', kubernetesVersion: '1.33', pools: [] };

    expect(catchArmError(() => checkPoolRequest(autoscaled, { ...parent, sku: { name: 'Automatic' } }, 'user1')).target).toBe('properties.enableAutoScaling');
    expect(checkPoolRequest(autoscaled, { ...parent, sku: { name: 'Base' } }, 'user1').enableAutoScaling).toBe(true);
  });
});

describe('managedClusterServerProperties of an Automatic cluster', () => {
  const facts = { subscriptionId: 's', name: 'c', nodeResourceGroup: 'MC_rg_c_eastus', identity: null, autoscaled: false };

  it('reports node auto-provisioning and the stable upgrade channel where the request left them out', () => {
    const sut = managedClusterServerProperties({ ...facts, properties: {}, sku: { name: 'Automatic', tier: 'Standard' } });

    expect(sut).toMatchObject({
      nodeProvisioningProfile: { mode: 'Auto', defaultNodePools: 'Auto' },
      autoUpgradeProfile: { upgradeChannel: 'stable', nodeOSUpgradeChannel: 'NodeImage' },
    });
  });

  it("keeps what the request set, and a Base cluster's defaults unchanged", () => {
    const set = { autoUpgradeProfile: { upgradeChannel: 'rapid' } };
    expect(managedClusterServerProperties({ ...facts, properties: set, sku: { name: 'Automatic' } }).autoUpgradeProfile).toEqual({ upgradeChannel: 'rapid' });
    expect(managedClusterServerProperties({ ...facts, properties: {}, sku: { name: 'Base', tier: 'Free' } })).toMatchObject({
      nodeProvisioningProfile: { mode: 'Manual', defaultNodePools: 'Auto' },
      autoUpgradeProfile: { upgradeChannel: 'none', nodeOSUpgradeChannel: 'NodeImage' },
    });
  });
});
