import { LocationCatalog } from '@cerulean/catalog';
import { AgentPoolEntity, AgentPoolMode } from '@cerulean/domain';
import { AgentPoolPropertiesDto } from './dto/agent-pool-properties.dto';
import { catchArmError } from '../../../../test-support/catch-arm-error';
import { resolveAgentPoolSettings, PoolContext } from './agent-pool-settings';

const eastus = new LocationCatalog().find('eastus');
if (!eastus) throw new Error('catalog lacks eastus');

const ctx = (over: Partial<PoolContext> = {}): PoolContext => ({
  target: 'properties',
  location: eastus,
  clusterVersion: '1.33',
  defaultMode: AgentPoolMode.User,
  ...over,
});

const dto = (props: Partial<AgentPoolPropertiesDto>): AgentPoolPropertiesDto => Object.assign(new AgentPoolPropertiesDto(), props);

describe('resolveAgentPoolSettings', () => {
  it('fills AKS defaults for a new pool', () => {
    const sut = resolveAgentPoolSettings(dto({}), ctx());
    expect(sut).toMatchObject({
      mode: 'User',
      count: 1,
      vmSize: 'Standard_DS2_v2',
      osType: 'Linux',
      osSku: 'Ubuntu',
      osDiskSizeGb: 128,
      maxPods: 110,
      orchestratorVersion: '1.33',
      availabilityZones: [],
      enableAutoScaling: false,
      powerState: 'Running',
      upgradeSettings: { maxSurge: '10%' },
    });
  });

  it('refuses a reference to another resource that is not a resource id, and keeps one that is', () => {
    const bad = catchArmError(() => resolveAgentPoolSettings(Object.assign(dto({}), { nodePublicIPPrefixID: '.#\\|)@' }), ctx()));
    expect(bad).toMatchObject({ status: 400, code: 'InvalidParameter', target: 'properties.nodePublicIPPrefixID' });
    for (const vnetSubnetID of ['subnet1', '/subscriptions/s/resourceGroups/rg', 42]) {
      expect(catchArmError(() => resolveAgentPoolSettings(Object.assign(dto({}), { vnetSubnetID }), ctx())).status).toBe(400);
    }
    const subnet = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes';
    const ok = resolveAgentPoolSettings(Object.assign(dto({}), { vnetSubnetID: subnet, podSubnetID: '' }), ctx());
    expect(ok.properties).toMatchObject({ vnetSubnetID: subnet });
  });

  it('accepts VM sizes in any casing and stores the catalog spelling', () => {
    expect(resolveAgentPoolSettings(dto({ vmSize: 'standard_d2s_v3' }), ctx()).vmSize).toBe('Standard_D2s_v3');
  });

  it('refuses an unknown VM size with its property path', () => {
    const sut = catchArmError(() => resolveAgentPoolSettings(dto({ vmSize: 'Standard_Nope' }), ctx({ target: 'properties.agentPoolProfiles[1]' })));
    expect(sut).toMatchObject({ status: 400, code: 'InvalidParameter', target: 'properties.agentPoolProfiles[1].vmSize' });
  });

  it('refuses a System pool without nodes', () => {
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ mode: 'System', count: 0 }), ctx())).target).toBe('properties.count');
  });

  it('refuses a pool newer than the control plane and an unknown version', () => {
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ orchestratorVersion: '1.34.1' }), ctx())).target).toBe('properties.orchestratorVersion');
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ orchestratorVersion: '1.99.0' }), ctx())).code).toBe('InvalidParameter');
  });

  it('refuses a zone the location does not have', () => {
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ availabilityZones: ['4'] }), ctx())).target).toBe('properties.availabilityZones');
  });

  it('checks autoscaler bounds against count', () => {
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ enableAutoScaling: true, minCount: 2, maxCount: 5, count: 6 }), ctx())).target).toBe(
      'properties.count',
    );
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ enableAutoScaling: true }), ctx())).target).toBe('properties.minCount');
  });

  it('keeps current values on update and refuses immutable changes', () => {
    const existing = Object.assign(
      new AgentPoolEntity(),
      resolveAgentPoolSettings(dto({ count: 3, vmSize: 'Standard_D2s_v3', nodeLabels: { a: 'b' } }), ctx()),
    );
    const sut = resolveAgentPoolSettings(dto({ count: 5 }), ctx({ existing }));
    expect(sut).toMatchObject({ count: 5, vmSize: 'Standard_D2s_v3', nodeLabels: { a: 'b' } });
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ vmSize: 'Standard_B2s' }), ctx({ existing }))).code).toBe('PropertyChangeNotAllowed');
  });

  it('keeps spec properties it does not act on, and drops read-only ones', () => {
    const sut = resolveAgentPoolSettings(Object.assign(dto({}), { enableEncryptionAtHost: true, currentOrchestratorVersion: '1.0.0' }), ctx());
    expect(sut.properties).toEqual({ enableEncryptionAtHost: true });
  });
  it('upgrades only along the catalog paths and never past the control plane', () => {
    const existing = Object.assign(new AgentPoolEntity(), resolveAgentPoolSettings(dto({ orchestratorVersion: '1.31.11' }), ctx()), {
      currentOrchestratorVersion: '1.31.11',
    });
    expect(resolveAgentPoolSettings(dto({ orchestratorVersion: '1.32.7' }), ctx({ existing })).orchestratorVersion).toBe('1.32.7');
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ orchestratorVersion: '1.33.4' }), ctx({ existing }))).code).toBe('OperationNotAllowed');
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ orchestratorVersion: '1.31.9' }), ctx({ existing }))).code).toBe('OperationNotAllowed');
  });

  it('stops only existing User pools (autoscaled ones too), and not while scaling', () => {
    const user = Object.assign(new AgentPoolEntity(), resolveAgentPoolSettings(dto({ count: 2 }), ctx()));
    expect(resolveAgentPoolSettings(dto({ powerState: { code: 'Stopped' } }), ctx({ existing: user })).powerState).toBe('Stopped');
    const autoscaled = Object.assign(
      new AgentPoolEntity(),
      resolveAgentPoolSettings(dto({ count: 2, enableAutoScaling: true, minCount: 1, maxCount: 3 }), ctx()),
    );
    expect(resolveAgentPoolSettings(dto({ powerState: { code: 'Stopped' } }), ctx({ existing: autoscaled }))).toMatchObject({
      powerState: 'Stopped',
      enableAutoScaling: true,
      count: 2,
    });
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ powerState: { code: 'Stopped' }, count: 3 }), ctx({ existing: user }))).target).toBe(
      'properties.count',
    );
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ powerState: { code: 'Stopped' } }), ctx())).code).toBe('InvalidParameter');
    const system = Object.assign(new AgentPoolEntity(), resolveAgentPoolSettings(dto({ mode: 'System' }), ctx()));
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ powerState: { code: 'Stopped' } }), ctx({ existing: system }))).code).toBe('OperationNotAllowed');
  });

  it('validates upgradeSettings with the property path', () => {
    expect(catchArmError(() => resolveAgentPoolSettings(dto({ upgradeSettings: { maxSurge: 'ten' } }), ctx())).target).toBe(
      'properties.upgradeSettings.maxSurge',
    );
    expect(resolveAgentPoolSettings(dto({ upgradeSettings: { maxSurge: '33%', drainTimeoutInMinutes: 5 } }), ctx()).upgradeSettings).toEqual({
      maxSurge: '33%',
      drainTimeoutInMinutes: 5,
    });
  });

  it('keeps undrainableNodeBehavior and rejects values AKS does not know', () => {
    const settings = { maxSurge: '1', undrainableNodeBehavior: 'Cordon' };
    expect(resolveAgentPoolSettings(dto({ upgradeSettings: settings }), ctx()).upgradeSettings).toEqual(settings);
    const err = catchArmError(() => resolveAgentPoolSettings(dto({ upgradeSettings: { undrainableNodeBehavior: 'Quarantine' } }), ctx()));
    expect(err).toMatchObject({ status: 400, code: 'InvalidParameter', target: 'properties.upgradeSettings.undrainableNodeBehavior' });
    expect(err.message).toContain("undrainableNodeBehavior 'Quarantine' is not valid. Allowed values: Cordon, Schedule.");
  });
});
