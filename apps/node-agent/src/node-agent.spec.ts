import type { NodeCgroupLimits } from '@cerulean/node-provider';
import type { AgentConfig } from './agent-config';
import { computeAllocatable, kubeReservedCpuCores, kubeReservedMemoryBytes, NodeAgent, UNSCHEDULABLE_TAINT } from './node-agent';

const MiB = 2 ** 20;

const config = (overrides: Partial<AgentConfig> = {}): AgentConfig => ({
  nodeName: 'aks-nodepool1-12345678-vmss000000',
  cluster: 'c1',
  clusterId: '2f1c',
  pool: 'nodepool1',
  zone: 'westeurope-1',
  vmSize: 'Standard_D2s_v3',
  kubernetesVersion: '1.33.2',
  nodeImageVersion: 'AKSUbuntu-2204gen2containerd-202611.01.0',
  labels: { team: 'a', 'kubernetes.io/os': 'windows' },
  taints: ['sku=gpu:NoSchedule'],
  capacity: { cpu: '2', memory: '7168Mi', pods: '110' },
  ...overrides,
});

const cgroup: NodeCgroupLimits = { version: 'v2', cpuMax: '50000 100000', cpus: 0.5, memoryMaxBytes: 256 * MiB };

function clock(start = Date.parse('2026-11-01T00:00:00Z')): { now: () => Date; advance: (ms: number) => void } {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => (t += ms) };
}

describe('kube-reserved and allocatable', () => {
  it('reserves CPU like AKS at its table points and interpolates between them', () => {
    expect(kubeReservedCpuCores(1)).toBeCloseTo(0.06);
    expect(kubeReservedCpuCores(2)).toBeCloseTo(0.1);
    expect(kubeReservedCpuCores(3)).toBeCloseTo(0.12);
    expect(kubeReservedCpuCores(64)).toBeCloseTo(0.74);
    expect(kubeReservedCpuCores(96)).toBeCloseTo(1.06);
    expect(kubeReservedCpuCores(0.5)).toBeCloseTo(0.06);
  });

  it('reserves 20 MiB per pod + 50 MiB, capped at 25% of memory', () => {
    expect(kubeReservedMemoryBytes(32 * 1024 * MiB, 110)).toBe(2250 * MiB);
    expect(kubeReservedMemoryBytes(4096 * MiB, 110)).toBe(1024 * MiB);
  });

  it('subtracts kube-reserved and the eviction threshold, leaving pods and other resources alone', () => {
    expect(computeAllocatable({ cpu: '2', memory: '7168Mi', pods: '110', 'ephemeral-storage': '30Gi' })).toEqual({
      cpu: '1900m',
      memory: `${(7168 - 1792 - 100) * 1024}Ki`,
      pods: '110',
      'ephemeral-storage': '30Gi',
    });
  });

  it('never reports negative allocatable memory', () => {
    expect(computeAllocatable({ memory: '64Mi' }).memory).toBe('0Ki');
  });
});

describe('NodeAgent', () => {
  it('builds the status document with standard labels winning over user labels', () => {
    const c = clock();
    const sut = new NodeAgent({ config: config(), problems: [], readCgroup: () => cgroup, now: c.now });
    c.advance(5_500);

    const status = sut.status();

    expect(status).toEqual({
      name: 'aks-nodepool1-12345678-vmss000000',
      cluster: 'c1',
      clusterId: '2f1c',
      pool: 'nodepool1',
      zone: 'westeurope-1',
      vmSize: 'Standard_D2s_v3',
      kubernetesVersion: '1.33.2',
      nodeImageVersion: 'AKSUbuntu-2204gen2containerd-202611.01.0',
      labels: {
        team: 'a',
        'kubernetes.io/hostname': 'aks-nodepool1-12345678-vmss000000',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': expect.any(String),
        'kubernetes.azure.com/agentpool': 'nodepool1',
        'node.kubernetes.io/instance-type': 'Standard_D2s_v3',
        'topology.kubernetes.io/zone': 'westeurope-1',
        'kubernetes.azure.com/node-image-version': 'AKSUbuntu-2204gen2containerd-202611.01.0',
      },
      taints: ['sku=gpu:NoSchedule'],
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
          lastHeartbeatTime: '2026-11-01T00:00:05.500Z',
          lastTransitionTime: '2026-11-01T00:00:00.000Z',
        },
      ],
      capacity: { cpu: '2', memory: '7168Mi', pods: '110' },
      allocatable: { cpu: '1900m', memory: '5402624Ki', pods: '110' },
      cgroup,
      unschedulable: false,
      drained: false,
      startedAt: '2026-11-01T00:00:00.000Z',
      uptimeSeconds: 5,
    });
  });

  it('reports Ready=False with the configuration problems', () => {
    const sut = new NodeAgent({ config: config(), problems: ['CERULEAN_POOL is not set', 'x'], readCgroup: () => cgroup });
    expect(sut.status().conditions[0]).toMatchObject({
      status: 'False',
      reason: 'KubeletConfigInvalid',
      message: 'CERULEAN_POOL is not set; x',
    });
  });

  it('cordons with the unschedulable taint, drains, and uncordons back, staying Ready', () => {
    const sut = new NodeAgent({ config: config(), problems: [], readCgroup: () => cgroup });

    expect(sut.cordon()).toMatchObject({ unschedulable: true, drained: false, taints: ['sku=gpu:NoSchedule', UNSCHEDULABLE_TAINT] });
    const drained = sut.drain();
    expect(drained).toMatchObject({ unschedulable: true, drained: true });
    expect(drained.conditions[0].status).toBe('True');
    expect(sut.uncordon()).toMatchObject({ unschedulable: false, drained: false, taints: ['sku=gpu:NoSchedule'] });
  });

  it('moves lastTransitionTime only when Ready changes', () => {
    const c = clock();
    const sut = new NodeAgent({ config: config(), problems: [], readCgroup: () => cgroup, now: c.now });
    c.advance(1_000);
    expect(sut.status().conditions[0].lastTransitionTime).toBe('2026-11-01T00:00:00.000Z');

    c.advance(1_000);
    sut.markStopping();
    const stopping = sut.status().conditions[0];
    expect(stopping).toMatchObject({ status: 'False', reason: 'KubeletStopping', lastTransitionTime: '2026-11-01T00:00:02.000Z' });

    c.advance(1_000);
    expect(sut.status().conditions[0].lastTransitionTime).toBe('2026-11-01T00:00:02.000Z');
  });
});
