import { spawn } from 'node:child_process';
import { connect, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { issueCertificate } from '@cerulean/pki';
import { KUBECTL, startHarness, type Harness } from '../../kube-apiserver/test/harness';
import { parseAgentConfig } from '../src/agent-config';
import { KubeNodeRegistration, VM_SIZE_CAPACITY_ANNOTATION } from '../src/kube-node';
import { CriClient } from '../src/kubelet/cri';
import { KubeApi } from '../src/kube-api';
import { Kubelet } from '../src/kubelet/kubelet';
import { NodeAgent, NodeAgentOptions } from '../src/node-agent';
import { freePort } from '../../../test-support/private-services';
import { waitUntil } from '../../../test-support/wait';

// The node agent registering its Node with the real Kubernetes API server (apps/kube-apiserver on a private etcd)
// and read back with the real kubectl.
jest.setTimeout(120_000);

const MiB = 2 ** 20;
const NODE = 'aks-nodepool1-12345678-vmss000000';
/** What node-role reads of the machine and the CRI (readMachineInfo, Version). */
const SYSTEM = {
  kernelVersion: '6.1.0-28-amd64',
  machineID: '5b1f0c3e9a7d4e2f8c6b1a0d9e8f7a6b',
  systemUUID: '',
  bootID: 'c58e8aa5-a5ed-4df3-b273-73a1d9912ed3',
  containerRuntimeVersion: 'containerd://1.6.20~ds1',
};

interface KubeNode {
  metadata: { name: string; resourceVersion: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { taints?: { key: string; value?: string; effect: string }[]; unschedulable?: boolean; providerID: string };
  status: {
    capacity: Record<string, string>;
    allocatable: Record<string, string>;
    conditions: { type: string; status: string; reason: string }[];
    addresses: { type: string; address: string }[];
    nodeInfo: { kubeletVersion: string; kernelVersion: string; machineID: string; bootID: string; containerRuntimeVersion: string };
  };
}

function agentFor(labels: Record<string, string>, runtime?: NodeAgentOptions['runtime']): NodeAgent {
  const { config, problems } = parseAgentConfig(
    {
      CERULEAN_NODE_NAME: NODE,
      CERULEAN_CLUSTER: 'c1',
      CERULEAN_CLUSTER_ID: '0b0e4d5a-2f1c-4c8e-9d7a-3e6f5a4b2c1d',
      CERULEAN_POOL: 'nodepool1',
      CERULEAN_ZONE: 'eastus-1',
      CERULEAN_VM_SIZE: 'Standard_D2s_v3',
      CERULEAN_KUBERNETES_VERSION: '1.33.2',
      CERULEAN_NODE_IMAGE_VERSION: 'AKSUbuntu-2204gen2containerd-202611.01.0',
      CERULEAN_NODE_LABELS: JSON.stringify({ ...labels, 'kubernetes.azure.com/mode': 'system' }),
      CERULEAN_NODE_TAINTS: JSON.stringify(['sku=gpu:NoSchedule']),
      CERULEAN_CAPACITY: JSON.stringify({ cpu: '2', memory: '8192Mi', pods: '40' }),
    },
    { hostname: NODE, capacity: () => ({}) },
  );
  expect(problems).toEqual([]);
  // The container's real limits (what readCgroupLimits reads inside a node with 0.5 CPU and 1 GiB).
  return new NodeAgent({
    config,
    problems,
    readCgroup: () => ({ version: 'v2', cpuMax: '50000 100000', cpus: 0.5, memoryMaxBytes: 1024 * MiB }),
    runtime,
  });
}

describe('KubeNodeRegistration against the Kubernetes API server', () => {
  let h: Harness;
  let tls: { ca: string; cert: string; key: string };
  const logs: Record<string, unknown>[] = [];
  const registration = (agent: NodeAgent) =>
    new KubeNodeRegistration({
      status: () => agent.status(),
      systemInfo: () => SYSTEM,
      site: { location: 'eastus', nodeResourceGroup: 'MC_rg_c1_eastus' },
      tls,
      log: (l) => void logs.push(l),
      apiUrl: h.server.url,
    });
  const getNode = async (): Promise<KubeNode> => JSON.parse((await h.kubectl(['get', 'node', NODE, '-o', 'json'])).stdout) as KubeNode;

  beforeAll(async () => {
    // Node lifecycle takes off the not-ready taint the API server puts on every new Node once the node is Ready.
    h = await startHarness({}, ['garbage-collector', 'namespace', 'node-lifecycle']);
    // What the platform gives a node (issueNodeClientCertificate): `CN=system:node:<name>, O=system:nodes`, which the
    // API server's node authorizer lets write only its own Node, its status and its Lease.
    const cert = await issueCertificate(h.ca, { commonName: `system:node:${NODE}`, organization: 'system:nodes', usage: 'client', validDays: 1 });
    tls = { ca: h.ca.certPem, cert: cert.certPem, key: cert.keyPem };
  });

  afterAll(async () => {
    await h?.close();
  });

  it('registers the Node with the AKS labels, the pool taints, real capacity, Ready, and a Lease in kube-node-lease', async () => {
    const sut = registration(agentFor({ team: 'blue' }));
    const before = (JSON.parse((await h.kubectl(['get', '--raw', '/api/v1/nodes'])).stdout) as { metadata: { resourceVersion: string } }).metadata;
    await sut.sync();

    // Created with its status, as kubelet's initialNode does: the Node's first version already says Ready and what it holds.
    const since = `resourceVersion=${before.resourceVersion}&fieldSelector=${encodeURIComponent(`metadata.name=${NODE}`)}`;
    const events = (await h.kubectl(['get', '--raw', `/api/v1/nodes?watch=1&${since}&timeoutSeconds=1`])).stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { type: string; object: KubeNode });
    expect(events[0].type).toBe('ADDED');
    expect(events[0].object.status.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True' })]);
    expect(events[0].object.status.capacity).toEqual({ cpu: '500m', memory: `${1024 * 1024}Ki`, pods: '40' });

    const table = (await h.kubectl(['get', 'nodes'])).stdout;
    expect(table).toMatch(new RegExp(`^${NODE}\\s+Ready\\s`, 'm'));
    const node = await getNode();
    expect(node.metadata.labels).toEqual({
      'kubernetes.azure.com/agentpool': 'nodepool1',
      agentpool: 'nodepool1',
      'kubernetes.azure.com/mode': 'system',
      'kubernetes.azure.com/role': 'agent',
      'kubernetes.azure.com/cluster': 'MC_rg_c1_eastus',
      'kubernetes.azure.com/node-image-version': 'AKSUbuntu-2204gen2containerd-202611.01.0',
      'node.kubernetes.io/instance-type': 'Standard_D2s_v3',
      'topology.kubernetes.io/region': 'eastus',
      'topology.kubernetes.io/zone': 'eastus-1',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': NODE,
      team: 'blue',
    });
    // Created with the API server's not-ready:NoSchedule beside the pool's taint; it goes once the node is Ready.
    const { taints } = await waitUntil(
      'the not-ready taint to go',
      async () => {
        const now = (await getNode()).spec.taints;
        return now?.some((t) => t.key === 'node.kubernetes.io/not-ready') ? undefined : { taints: now };
      },
      10_000,
    );
    expect(taints).toEqual([{ key: 'sku', value: 'gpu', effect: 'NoSchedule' }]);
    expect(node.status.capacity).toEqual({ cpu: '500m', memory: `${1024 * 1024}Ki`, pods: '40' });
    expect(node.status.allocatable.pods).toBe('40');
    expect(JSON.parse(node.metadata.annotations[VM_SIZE_CAPACITY_ANNOTATION])).toEqual({ cpu: '2', memory: '8192Mi', pods: '40' });
    expect(node.status.conditions).toEqual([expect.objectContaining({ type: 'Ready', status: 'True', reason: 'KubeletReady' })]);
    expect(node.status.nodeInfo).toMatchObject({ kubeletVersion: 'v1.33.2', ...SYSTEM });
    // What `kubectl get nodes -o wide` shows of it.
    const wide = (await h.kubectl(['get', 'node', NODE, '-o', 'wide', '--no-headers'])).stdout;
    expect(wide).toContain(' 6.1.0-28-amd64 ');
    expect(wide.trim().endsWith('containerd://1.6.20~ds1')).toBe(true);

    const lease = JSON.parse((await h.kubectl(['get', 'lease', NODE, '-n', 'kube-node-lease', '-o', 'json'])).stdout) as {
      spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: string };
    };
    expect(lease.spec).toMatchObject({ holderIdentity: NODE, leaseDurationSeconds: 40 });
    const firstRenew = Date.parse(lease.spec.renewTime);
    expect(Date.now() - firstRenew).toBeLessThan(10_000);

    await new Promise((r) => setTimeout(r, 20));
    await sut.sync();
    const renewed = JSON.parse((await h.kubectl(['get', 'lease', NODE, '-n', 'kube-node-lease', '-o', 'json'])).stdout) as { spec: { renewTime: string } };
    expect(Date.parse(renewed.spec.renewTime)).toBeGreaterThan(firstRenew);
    await sut.stop();
  });

  it("re-applies the platform labels when an agent restarts (the Node exists: 409, then a patch), keeping node lifecycle's taints", async () => {
    const notReady = () => agentFor({ team: 'green' }, () => ({ ready: false, reason: 'KubeletNotReady', message: 'container runtime is not ready' }));
    // Back while its container runtime is still down: node lifecycle marks the node not-ready.
    const first = registration(notReady());
    await first.sync();
    await first.stop();
    await waitUntil(
      'the not-ready taint',
      async () => ((await getNode()).spec.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready' && t.effect === 'NoSchedule') ? true : undefined),
      10_000,
    );
    // Every version of the Node from here on, as a watch sees them: the taint must be in each one, not only be put back
    // by node lifecycle after the agent's patch dropped it.
    const watch = spawn(KUBECTL, [
      '--kubeconfig',
      h.kubeconfig,
      '--cache-dir',
      join(h.dir, 'cache'),
      'get',
      'node',
      NODE,
      '-w',
      '-o',
      'jsonpath={.metadata.resourceVersion} {.spec.taints[*].key}{"\\n"}',
    ]);
    const lines: string[] = [];
    watch.stdout.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    try {
      await waitUntil('the watch to start', async () => (lines.length > 0 ? true : undefined), 10_000);
      const sut = registration(notReady());
      await sut.sync();
      const node = await getNode();
      expect(node.metadata.labels.team).toBe('green');
      expect(node.spec.taints).toEqual([
        { key: 'sku', value: 'gpu', effect: 'NoSchedule' },
        // Node lifecycle's pair for a node that is not Ready: NoExecute (evictions after tolerations) and NoSchedule.
        expect.objectContaining({ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }),
        expect.objectContaining({ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }),
      ]);
      await waitUntil(
        'the watch to see the patch',
        async () => (lines.some((l) => l.startsWith(`${node.metadata.resourceVersion} `)) ? true : undefined),
        10_000,
      );
      await sut.stop();
    } finally {
      watch.kill();
    }
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(line).toContain('node.kubernetes.io/not-ready');
  });

  it('posts Ready as soon as its container runtime is up, not at the next status interval', async () => {
    // Registered while containerd is still starting (Ready=False), as a new node usually is.
    let runtimeUp = false;
    const agent = agentFor({ team: 'green' }, () =>
      runtimeUp ? { ready: true } : { ready: false, reason: 'KubeletNotReady', message: 'container runtime is not ready' },
    );
    const sut = new KubeNodeRegistration({
      status: () => agent.status(),
      systemInfo: () => SYSTEM,
      site: { location: 'eastus', nodeResourceGroup: 'MC_rg_c1_eastus' },
      tls,
      log: (l) => void logs.push(l),
      apiUrl: h.server.url,
      intervalMs: 60_000,
    });
    const ready = async () => (await getNode()).status.conditions.find((c) => c.type === 'Ready')?.status;
    try {
      sut.start();
      await waitUntil('the Node registered NotReady', async () => ((await ready().catch(() => undefined)) === 'False' ? true : undefined), 5_000);
      const up = Date.now();
      runtimeUp = true;
      await waitUntil('the Node Ready', async () => ((await ready()) === 'True' ? true : undefined), 5_000);
      // Well within the 60 s interval (kubelet checks every 100 ms until its node was first posted Ready).
      expect(Date.now() - up).toBeLessThan(5_000);
    } finally {
      await sut.stop();
    }
  });

  it('registers right after its API server starts listening, however long it was away', async () => {
    // A free port that nothing listens on yet, then a plain TCP relay to the API server on it (its certificate names
    // 127.0.0.1, whatever the port): the control plane coming up after its node.
    const port = await freePort();
    const target = new URL(h.server.url);
    const relay = createNetServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await h.kubectl(['delete', 'node', NODE, '--ignore-not-found']);
    const agent = agentFor({ team: 'green' });
    const sut = new KubeNodeRegistration({
      status: () => agent.status(),
      systemInfo: () => SYSTEM,
      site: { location: 'eastus', nodeResourceGroup: 'MC_rg_c1_eastus' },
      tls,
      log: (l) => void logs.push(l),
      apiUrl: `https://127.0.0.1:${port}`,
      intervalMs: 60_000,
    });
    try {
      sut.start();
      // Long enough for kubelet's doubling back-off to reach 3.2 s between tries.
      await new Promise((r) => setTimeout(r, 3_300));
      await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve));
      const listening = Date.now();
      await waitUntil('the Node registered', async () => ((await h.kubectl(['get', 'node', NODE], { allowFail: true })).code === 0 ? true : undefined), 10_000);
      expect(Date.now() - listening).toBeLessThan(1_500);
    } finally {
      await sut.stop();
      relay.close();
    }
  });

  it('registers again at the next round when the Node was deleted', async () => {
    const agent = agentFor({ team: 'green' });
    const sut = registration(agent);
    await sut.sync();
    await h.kubectl(['delete', 'node', NODE]);
    await expect(sut.sync()).rejects.toThrow(/HTTP 404/);
    await sut.sync();
    expect((await getNode()).metadata.name).toBe(NODE);
    // Stopping posts the last status: NotReady, as kubelet going away.
    agent.markStopping();
    await sut.stop();
    expect((await getNode()).status.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'KubeletStopping' });
  });

  it('removes the pods bound to it that are marked for deletion, and only those, even without a container runtime', async () => {
    const sut = registration(agentFor({}));
    await sut.sync();
    const api = new KubeApi(tls, h.server.url);
    const kubelet = new Kubelet({
      nodeName: NODE,
      api,
      cri: new CriClient('unix:///nonexistent/containerd.sock'),
      criSocketPath: '/nonexistent/containerd.sock',
      log: (l) => void logs.push(l),
      hostIPs: () => [],
      allocatable: () => ({ cpu: 2, memory: 2 ** 30 }),
    });
    const pod = (name: string, nodeName: string) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: 'default' },
        spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] },
      });
    for (const [name, node] of [
      ['evicted', NODE],
      ['staying', NODE],
      ['elsewhere', 'other-node'],
    ]) {
      await h.kubectl(['apply', '-f', '-'], { input: pod(name, node) });
    }
    // A bound pod waits for its node to confirm the deletion (Terminating until then).
    await h.kubectl(['delete', 'pod', 'evicted', 'elsewhere', '--wait=false']);
    const terminating = async (name: string) =>
      (await h.kubectl(['get', 'pod', name, '-o', 'jsonpath={.metadata.deletionTimestamp}'], { allowFail: true })).stdout;
    expect(await terminating('evicted')).not.toBe('');
    kubelet.start();
    const names = async () => (await h.kubectl(['get', 'pods', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ').sort();
    for (let i = 0; i < 100 && (await names()).includes('evicted'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await names()).toEqual(['elsewhere', 'staying']);
    expect(await terminating('elsewhere')).not.toBe('');
    await kubelet.stop();
    api.close();
    await sut.stop();
    await h.kubectl(['delete', 'pod', 'staying', 'elsewhere', '--grace-period=0', '--force'], { allowFail: true });
  });
});
