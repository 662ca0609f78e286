import { randomBytes } from 'node:crypto';
import { loadEnv } from '@cerulean/config';
import { AgentPoolEntity, ClusterCredentialRepository, ManagedClusterEntity, ResourceGroupEntity } from '@cerulean/domain';
import { NODE_AGENT_AUTH_VERSION, NODE_AGENT_TOKEN_PATH, NodeAgentCredentials, NodeLabels, type NodeProvider } from '@cerulean/node-provider';
import { InstallationService } from './installation.service';
import { NodeFleet, quarantineFailure } from './node-fleet.service';
import { ArmError } from '@cerulean/arm';
import { EntityManager } from 'typeorm';
import { KubeApiClient } from './kube-api.client';

const cluster = (): ManagedClusterEntity =>
  Object.assign(new ManagedClusterEntity(), {
    id: '0b0e4d5a-2f1c-4c8e-9d7a-3e6f5a4b2c1d',
    name: 'c1',
    subscriptionId: '8c4e2a1f-3b6d-4f0e-9a7c-5d2b1e0f6a93',
    properties: { networkProfile: { podCidr: '10.100.0.0/16' } },
  });

const pool = (): AgentPoolEntity =>
  Object.assign(new AgentPoolEntity(), {
    name: 'nodepool1',
    vmssSuffix: '12345678',
    mode: 'System',
    vmSize: 'Standard_D2s_v3',
    maxPods: 110,
    orchestratorVersion: '1.33.2',
    nodeImageVersion: '',
    availabilityZones: [],
    nodeLabels: {},
    nodeTaints: [],
  });

describe('NodeFleet.nodeSpec', () => {
  const credentials = new NodeAgentCredentials(randomBytes(32));
  const installation = { id: () => 'inst-1' } as Pick<InstallationService, 'id'> as InstallationService;
  // nodeSpec is pure: the Kubernetes API client, the credential store and the database are not reached.
  const sut = new NodeFleet(
    {} as NodeProvider,
    loadEnv({}),
    installation,
    credentials,
    {} as KubeApiClient,
    {} as ClusterCredentialRepository,
    {} as EntityManager,
  );

  it('hands each node its own agent credential as a private file, never in the environment', () => {
    const c = cluster();
    const spec = sut.nodeSpec(c, new ResourceGroupEntity(), pool(), 1, {});

    expect(spec.files).toEqual([{ path: NODE_AGENT_TOKEN_PATH, content: `${credentials.tokenFor(c.id, spec.name)}\n`, mode: 0o600 }]);
    expect(Object.values(spec.env).join(' ')).not.toContain(credentials.tokenFor(c.id, spec.name));
    expect(sut.nodeSpec(c, new ResourceGroupEntity(), pool(), 2, {}).files?.[0].content).not.toBe(spec.files?.[0].content);
  });

  it("tells each node the cluster's pod CIDR, and AKS's DNS service address when the profile names none", () => {
    expect(sut.nodeSpec(cluster(), new ResourceGroupEntity(), pool(), 0, {}).env).toMatchObject({
      CERULEAN_POD_CIDR: '10.100.0.0/16',
      CERULEAN_DNS_SERVICE_IP: '10.0.0.10',
    });
  });

  it('labels nodes with the credential version, so nodes from before credentials count as stale and roll', () => {
    expect(sut.nodeSpec(cluster(), new ResourceGroupEntity(), pool(), 0, {}).labels[NodeLabels.agentAuth]).toBe(NODE_AGENT_AUTH_VERSION);
  });
});

describe('quarantineFailure', () => {
  it('keeps the drain error code and names every quarantined node, sorted, with the first cause', () => {
    const drain = (node: string) =>
      new ArmError(500, 'PodDrainFailure', `Drain node ${node} failed when evicting pod default/p failed with Too Many Requests error.`);
    const err = quarantineFailure('np1', [
      { node: 'aks-np1-1-vmss000002', error: drain('aks-np1-1-vmss000002') },
      { node: 'aks-np1-1-vmss000000', error: drain('aks-np1-1-vmss000000') },
    ]);
    expect(err).toMatchObject({ status: 500, code: 'PodDrainFailure' });
    expect(err.message).toBe(
      '2 node(s) of agent pool np1 could not be drained and are quarantined (cordoned, labelled kubernetes.azure.com/upgrade-status=Quarantined, ' +
        'each replaced by a surge node): aks-np1-1-vmss000000, aks-np1-1-vmss000002. The other nodes were upgraded. ' +
        'Drain node aks-np1-1-vmss000002 failed when evicting pod default/p failed with Too Many Requests error.',
    );
  });
});
