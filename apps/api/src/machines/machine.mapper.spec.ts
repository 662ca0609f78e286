import { KubeNodeWire, MACHINE_TYPE, MachineOwner, toMachine } from './machine.mapper';

const owner: MachineOwner = {
  subscriptionId: 'sub1',
  resourceGroup: 'Rg1',
  cluster: 'C1',
  pool: 'np1',
  nodeResourceGroup: 'MC_Rg1_C1_eastus',
  vmssName: 'aks-np1-12345678-vmss',
  zonal: true,
};

const node = (over: Partial<KubeNodeWire> = {}): KubeNodeWire => ({
  metadata: {
    name: 'aks-np1-12345678-vmss000002',
    creationTimestamp: '2026-11-21T10:00:00Z',
    labels: {
      'kubernetes.azure.com/agentpool': 'np1',
      'topology.kubernetes.io/zone': 'eastus-2',
      'kubernetes.azure.com/node-image-version': 'AKSUbuntu-2204gen2containerd-202611.01.0',
      'node.kubernetes.io/instance-type': 'Standard_DS2_v2',
    },
  },
  status: {
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: '2026-11-21T10:05:00Z' }],
    addresses: [
      { type: 'InternalIP', address: '172.18.0.3' },
      { type: 'Hostname', address: 'aks-np1-12345678-vmss000002' },
    ],
    nodeInfo: { kubeletVersion: 'v1.33.2' },
  },
  ...over,
});

describe('toMachine', () => {
  it('has the spec shape: id under the pool, type, zones, network and the VMSS instance id', () => {
    const sut = toMachine(owner, node());

    expect(sut).toMatchObject({
      id: '/subscriptions/sub1/resourceGroups/Rg1/providers/Microsoft.ContainerService/managedClusters/C1/agentPools/np1/machines/aks-np1-12345678-vmss000002',
      name: 'aks-np1-12345678-vmss000002',
      type: MACHINE_TYPE,
      zones: ['eastus-2'],
      properties: {
        network: { ipAddresses: [{ family: 'IPv4', ip: '172.18.0.3' }] },
        resourceId:
          '/subscriptions/sub1/resourceGroups/MC_Rg1_C1_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/aks-np1-12345678-vmss/virtualMachines/2',
      },
    });
  });

  it('carries Ready, heartbeat, age, zone and versions in nodeStatus', () => {
    const sut = toMachine(owner, node());

    expect(sut.properties.nodeStatus).toEqual({
      nodeName: 'aks-np1-12345678-vmss000002',
      ready: 'True',
      readyReason: 'KubeletReady',
      lastHeartbeatTime: '2026-11-21T10:05:00Z',
      createdTime: '2026-11-21T10:00:00Z',
      zone: 'eastus-2',
      kubeletVersion: '1.33.2',
      nodeImageVersion: 'AKSUbuntu-2204gen2containerd-202611.01.0',
      vmSize: 'Standard_DS2_v2',
      unschedulable: false,
    });
  });

  it('leaves zones out for a pool without availability zones, as AKS does', () => {
    const sut = toMachine({ ...owner, zonal: false }, node());

    expect(sut).not.toHaveProperty('zones');
  });

  it('reports Unknown readiness and no address for a node without status', () => {
    const sut = toMachine(owner, node({ status: undefined }));

    expect(sut.properties.nodeStatus.ready).toBe('Unknown');
    expect(sut.properties.network.ipAddresses).toEqual([]);
  });
});
