import { NODE_AGENT_PORT } from '@cerulean/node-provider';
import { AGENT_PORT, parseAgentConfig, type ConfigDefaults } from './agent-config';

const defaults = (): ConfigDefaults => ({ hostname: 'host-1', capacity: () => ({ cpu: '1', memory: '1Gi', pods: '110' }) });

const fullEnv = (overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> => ({
  CERULEAN_NODE_NAME: 'aks-nodepool1-12345678-vmss000000',
  CERULEAN_CLUSTER: 'c1',
  CERULEAN_CLUSTER_ID: '2f1c',
  CERULEAN_POOL: 'nodepool1',
  CERULEAN_ZONE: 'westeurope-1',
  CERULEAN_KUBERNETES_VERSION: '1.33.2',
  CERULEAN_NODE_IMAGE_VERSION: 'AKSUbuntu-2204gen2containerd-202611.01.0',
  CERULEAN_VM_SIZE: 'Standard_D2s_v3',
  CERULEAN_NODE_LABELS: '{"team":"a"}',
  CERULEAN_NODE_TAINTS: '["sku=gpu:NoSchedule","dedicated:NoExecute"]',
  CERULEAN_CAPACITY: '{"cpu":"2","memory":"7168Mi","pods":"110"}',
  ...overrides,
});

describe('parseAgentConfig', () => {
  it('uses the same port as the provider publishes', () => {
    expect(AGENT_PORT).toBe(NODE_AGENT_PORT);
  });

  it('reads a complete environment without problems', () => {
    const sut = parseAgentConfig(fullEnv(), defaults());
    expect(sut.problems).toEqual([]);
    expect(sut.config).toEqual({
      nodeName: 'aks-nodepool1-12345678-vmss000000',
      cluster: 'c1',
      clusterId: '2f1c',
      pool: 'nodepool1',
      zone: 'westeurope-1',
      vmSize: 'Standard_D2s_v3',
      kubernetesVersion: '1.33.2',
      nodeImageVersion: 'AKSUbuntu-2204gen2containerd-202611.01.0',
      labels: { team: 'a' },
      taints: ['sku=gpu:NoSchedule', 'dedicated:NoExecute'],
      capacity: { cpu: '2', memory: '7168Mi', pods: '110' },
    });
  });

  it('falls back to the hostname, zone "0" and the default capacity', () => {
    const sut = parseAgentConfig(fullEnv({ CERULEAN_NODE_NAME: undefined, CERULEAN_ZONE: '', CERULEAN_CAPACITY: undefined }), defaults());
    expect(sut.config.nodeName).toBe('host-1');
    expect(sut.config.zone).toBe('0');
    expect(sut.config.capacity).toEqual({ cpu: '1', memory: '1Gi', pods: '110' });
    expect(sut.problems).toEqual([]);
  });

  it('reports bad JSON, wrong shapes, bad taints and bad quantities instead of throwing', () => {
    const sut = parseAgentConfig(
      fullEnv({
        CERULEAN_NODE_LABELS: '{not json',
        CERULEAN_NODE_TAINTS: '["no-effect"]',
        CERULEAN_CAPACITY: '{"cpu":"two"}',
      }),
      defaults(),
    );
    expect(sut.config.labels).toEqual({});
    expect(sut.problems).toEqual([
      'CERULEAN_NODE_LABELS is not valid JSON',
      'CERULEAN_NODE_TAINTS: "no-effect" is not key[=value]:Effect',
      'CERULEAN_CAPACITY: cpu="two" is not a quantity',
    ]);
  });

  it('reports a label object with non-string values as the wrong shape', () => {
    const sut = parseAgentConfig(fullEnv({ CERULEAN_NODE_LABELS: '{"a":1}' }), defaults());
    expect(sut.problems).toEqual(['CERULEAN_NODE_LABELS has the wrong shape']);
  });

  it('lists every missing required variable', () => {
    const sut = parseAgentConfig({}, defaults());
    expect(sut.problems).toEqual([
      'CERULEAN_CLUSTER is not set',
      'CERULEAN_CLUSTER_ID is not set',
      'CERULEAN_POOL is not set',
      'CERULEAN_KUBERNETES_VERSION is not set',
      'CERULEAN_NODE_IMAGE_VERSION is not set',
      'CERULEAN_VM_SIZE is not set',
    ]);
  });
});
