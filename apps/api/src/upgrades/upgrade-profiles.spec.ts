import { AgentPoolEntity, ManagedClusterEntity } from '@cerulean/domain';
import { agentPoolUpgradeProfile, availableAgentPoolVersions, clusterUpgradeProfile } from './upgrade-profiles';

const cluster = (version: string, current: string | null = null) =>
  Object.assign(new ManagedClusterEntity(), { subscriptionId: 'sub', name: 'c1', kubernetesVersion: version, currentKubernetesVersion: current });
const pool = (name: string, version: string) =>
  Object.assign(new AgentPoolEntity(), { name, orchestratorVersion: version, currentOrchestratorVersion: null, osType: 'Linux' });

describe('upgrade profiles', () => {
  it('lists the control plane upgrades by the catalog rules, and each pool with its own', () => {
    const sut = clusterUpgradeProfile(cluster('1.32.5'), 'rg', [pool('np1', '1.31.11')]);
    expect(sut.id).toBe('/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1/upgradeprofiles/default');
    expect(sut.properties.controlPlaneProfile.upgrades.map((u) => u.kubernetesVersion)).toEqual(['1.32.7', '1.33.2', '1.33.4']);
    expect(sut.properties.agentPoolProfiles[0]).toMatchObject({ name: 'np1', kubernetesVersion: '1.31.11' });
    expect(sut.properties.agentPoolProfiles[0].upgrades.map((u) => u.kubernetesVersion)).toEqual(['1.32.5', '1.32.7']);
  });

  it('marks preview versions', () => {
    const sut = clusterUpgradeProfile(cluster('1.33.4'), 'rg', []);
    expect(sut.properties.controlPlaneProfile.upgrades).toEqual([{ kubernetesVersion: '1.34.1', isPreview: true }]);
  });

  it('never offers a pool a version past its control plane', () => {
    const sut = agentPoolUpgradeProfile(cluster('1.32.7'), 'rg', pool('np1', '1.31.9'));
    expect(sut.properties.upgrades.map((u) => u.kubernetesVersion)).toEqual(['1.31.11', '1.32.5', '1.32.7']);
    expect(agentPoolUpgradeProfile(cluster('1.32.7'), 'rg', pool('np1', '1.32.7')).properties.upgrades).toEqual([]);
  });

  it('follows the control plane as it upgrades (currentKubernetesVersion), not the requested version', () => {
    const upgrading = cluster('1.33.4', '1.32.7');
    expect(clusterUpgradeProfile(upgrading, 'rg', []).properties.controlPlaneProfile.kubernetesVersion).toBe('1.32.7');
    expect(availableAgentPoolVersions(upgrading, 'rg').properties.agentPoolVersions.map((v) => v.kubernetesVersion)).toEqual([
      '1.31.9',
      '1.31.11',
      '1.32.5',
      '1.32.7',
    ]);
  });
});
