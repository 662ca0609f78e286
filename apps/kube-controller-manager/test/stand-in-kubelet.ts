import { setTimeout as sleep } from 'node:timers/promises';
import { KubeApiError, type KubeClient } from '../src/client/kube-client';

/** Test helpers shared by the workload controller tests: polling, nodes, and the node agent's part for pods. */

export interface TestPod {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  spec: {
    nodeName?: string;
    hostname?: string;
    subdomain?: string;
    containers: { image: string; env?: { name: string }[] }[];
    affinity?: unknown;
    tolerations?: unknown[];
  };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Sets a pod's phase (and Ready with it) through pods/status, as the kubelet reports it. */
export async function setPodPhase(client: KubeClient, pod: TestPod, phase: 'Running' | 'Succeeded' | 'Failed', ready = phase === 'Running'): Promise<void> {
  const t = now();
  await client.patch(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`, {
    status: {
      phase,
      podIP: '10.244.0.10',
      conditions: [
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: t },
        { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: t },
      ],
    },
  });
}

export async function createNode(client: KubeClient, name: string, labels: Record<string, string> = {}, taints: unknown[] = []): Promise<void> {
  await client.create('/api/v1/nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: taints.length ? { taints } : {},
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now(), lastTransitionTime: now() }],
    },
  });
}

/** Renews every node's Lease in kube-node-lease (creating it the first time), as each node's agent does. */
async function renewLeases(client: KubeClient): Promise<void> {
  const renewTime = new Date().toISOString().replace(/Z$/, '000Z'); // MicroTime: six fractional digits
  for (const node of (await client.list<{ metadata: { name: string } }>('/api/v1/nodes')).items) {
    const name = node.metadata.name;
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`;
    await client.patch(path, { spec: { renewTime } }).catch(() =>
      client.create('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name },
        spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime },
      }),
    );
  }
}

/**
 * Plays the node agent: every node's Lease is renewed (so node lifecycle keeps the nodes Ready), a pod marked for
 * deletion goes at once (grace 0: there is no container to stop), and, when `run` says so, a bound pod becomes Running
 * and Ready. Stops when the returned function is called.
 */
export function startStandInKubelet(client: KubeClient, run: (pod: TestPod) => boolean = () => false): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  let renewedAt = 0;
  const tick = async () => {
    if (Date.now() - renewedAt > 5_000) {
      await renewLeases(client);
      renewedAt = Date.now();
    }
    const all = (await client.list<TestPod>('/api/v1/pods')).items;
    for (const p of all) {
      const path = `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`;
      if (p.metadata.deletionTimestamp) {
        await client.delete(path, { gracePeriodSeconds: 0 }).catch(() => undefined);
        continue;
      }
      if (p.spec.nodeName && !p.status?.phase?.match(/Running|Succeeded|Failed/) && run(p)) await setPodPhase(client, p, 'Running').catch(() => undefined);
    }
  };
  const loop = () => {
    if (stopped) return;
    pass = tick()
      .catch(() => undefined)
      .then(() => {
        if (!stopped) timer = setTimeout(loop, 150);
      });
  };
  loop();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await pass;
  };
}

/**
 * A StorageClass as the API server's bootstrap makes AKS's (disk.csi.azure.com, StandardSSD_LRS) or as a test needs it;
 * made only when absent, as the bootstrap's EnsureExists.
 */
export async function ensureStorageClass(
  client: KubeClient,
  name: string,
  { volumeBindingMode = 'WaitForFirstConsumer', reclaimPolicy = 'Delete', provisioner = 'disk.csi.azure.com', allowVolumeExpansion = false } = {},
): Promise<void> {
  await client
    .create('/apis/storage.k8s.io/v1/storageclasses', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name },
      provisioner,
      parameters: provisioner === 'disk.csi.azure.com' ? { skuname: 'StandardSSD_LRS' } : undefined,
      reclaimPolicy,
      volumeBindingMode,
      allowVolumeExpansion,
    })
    .catch((err: unknown) => {
      if (!(err instanceof KubeApiError && err.reason === 'AlreadyExists')) throw err;
    });
}
