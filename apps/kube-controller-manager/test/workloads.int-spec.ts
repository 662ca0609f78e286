import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../../kube-apiserver/test/harness';
import { InformerHub } from '../src/controllers/informer-hub';
import { KubeClient } from '../src/client/kube-client';
import { DeploymentController } from '../src/controllers/deployment.controller';
import { ReplicaSetController } from '../src/controllers/replicaset.controller';
import { Scheduler } from '../src/scheduler/scheduler';

jest.setTimeout(180_000);

interface Pod {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  spec: { nodeName?: string };
  status?: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/**
 * The scheduler and the workload controllers against the real API server on a private etcd, driven by the real
 * kubectl. No kubelet runs here: the test plays the node's part for pods (Running and Ready through pods/status),
 * as the node agent will.
 */
describe('scheduler, ReplicaSet and Deployment controllers', () => {
  let h: Harness;
  let client: KubeClient;
  let hub: InformerHub;
  let scheduler: Scheduler;
  let replicaSets: ReplicaSetController;
  let deployments: DeploymentController;
  let kubelet: NodeJS.Timeout | undefined;
  let stopped = false;

  const pods = async (selector: string): Promise<Pod[]> => (await client.list<Pod>('/api/v1/namespaces/default/pods', { labelSelector: selector })).items;
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse((await h.kubectl([...args, '-o', 'json'])).stdout) as T;
  const deployment = (name: string, replicas: number, image = 'nginx:1.27') =>
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels: { app: name } },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'nginx', image }] } },
      },
    });
  const apply = (manifest: string) => h.kubectl(['apply', '-f', '-'], { input: manifest });

  /** Plays the kubelet: every bound pod not yet running becomes Running and Ready; a pod being deleted goes. */
  const startFakeKubelet = () => {
    const tick = async () => {
      if (stopped) return;
      const all = (await client.list<Pod & { metadata: { deletionTimestamp?: string } }>('/api/v1/pods')).items;
      for (const p of all) {
        if (p.spec.nodeName && p.metadata.deletionTimestamp) {
          await client.delete(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`, { gracePeriodSeconds: 0 }).catch(() => undefined);
          continue;
        }
        if (!p.spec.nodeName || p.status?.phase === 'Running') continue;
        const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        await client
          .patch(
            `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/status`,
            {
              status: {
                phase: 'Running',
                podIP: '10.244.0.10',
                conditions: [
                  { type: 'Ready', status: 'True', lastTransitionTime: now },
                  { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
                ],
              },
            },
            'merge',
          )
          .catch(() => undefined);
      }
      if (!stopped) kubelet = setTimeout(() => void tick().catch(() => undefined), 150);
    };
    void tick().catch(() => undefined);
  };

  beforeAll(async () => {
    // Node lifecycle takes the API server's not-ready taint off the nodes once it sees them Ready.
    h = await startHarness({}, ['node-lifecycle']);
    client = new KubeClient({ server: h.server.url, ca: h.ca.certPem, cert: h.admin.certPem, key: h.admin.keyPem });
    for (const [name, zone] of [
      ['aks-nodepool1-0', '1'],
      ['aks-nodepool1-1', '2'],
      ['aks-nodepool1-2', '3'],
    ]) {
      await client.create('/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `eastus-${zone}`, agentpool: 'nodepool1' } },
        status: { capacity: { cpu: '2', memory: '4Gi', pods: '110' }, allocatable: { cpu: '1900m', memory: '3Gi', pods: '110' } },
      });
    }
    hub = new InformerHub(client);
    scheduler = new Scheduler(client, hub, { retryUnschedulableMs: 1000 });
    replicaSets = new ReplicaSetController({ client, informers: hub });
    deployments = new DeploymentController({ client, informers: hub });
    hub.start();
    scheduler.start();
    replicaSets.start();
    deployments.start();
    startFakeKubelet();
  });

  afterAll(async () => {
    stopped = true;
    clearTimeout(kubelet);
    await Promise.all([scheduler?.stop(), replicaSets?.stop(), deployments?.stop()]);
    await hub?.stop();
    client?.close();
    await h?.close();
  });

  it('creates, schedules and spreads the pods of a Deployment, and reports it available', async () => {
    await apply(deployment('web', 3));
    const bound = await waitFor('3 bound pods', async () => {
      const list = await pods('app=web');
      return list.length === 3 && list.every((p) => p.spec.nodeName) && list;
    });
    expect(new Set(bound.map((p) => p.spec.nodeName)).size).toBe(3);
    expect(bound[0].metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ReplicaSet' });
    const status = await h.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    expect(status.stdout).toContain('successfully rolled out');
    const d = await json<{
      status: { availableReplicas: number; conditions: { type: string; reason: string }[] };
      metadata: { annotations: Record<string, string> };
    }>(['get', 'deployment', 'web']);
    expect(d.status.availableReplicas).toBe(3);
    expect(d.status.conditions.map((c) => [c.type, c.reason]).sort()).toEqual([
      ['Available', 'MinimumReplicasAvailable'],
      ['Progressing', 'NewReplicaSetAvailable'],
    ]);
    expect(d.metadata.annotations['deployment.kubernetes.io/revision']).toBe('1');
    const table = await h.kubectl(['get', 'deployment', 'web']);
    expect(table.stdout).toMatch(/web\s+3\/3\s+3\s+3\s+/);
  });

  it('rolls out a new image, keeps history, and rolls back with kubectl rollout undo', async () => {
    await h.kubectl(['set', 'image', 'deployment/web', 'nginx=nginx:1.28']);
    await h.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    const sets = await json<{ items: { metadata: { name: string; annotations: Record<string, string> }; spec: { replicas: number } }[] }>([
      'get',
      'replicasets',
      '-l',
      'app=web',
    ]);
    expect(sets.items.map((s) => [s.metadata.annotations['deployment.kubernetes.io/revision'], s.spec.replicas]).sort()).toEqual([
      ['1', 0],
      ['2', 3],
    ]);
    const history = await h.kubectl(['rollout', 'history', 'deployment/web']);
    expect(history.stdout).toMatch(/REVISION/);
    expect(history.stdout).toMatch(/^1\s/m);
    expect(history.stdout).toMatch(/^2\s/m);
    await h.kubectl(['rollout', 'undo', 'deployment/web']);
    await h.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    // The old pods terminate (the stand-in kubelet removes them): three remain, from revision 1's template.
    await waitFor('3 pods of the restored template', async () => {
      const list = (await client.list<{ spec: { containers: { image: string }[] } }>('/api/v1/namespaces/default/pods', { labelSelector: 'app=web' })).items;
      return list.length === 3 && list.every((p) => p.spec.containers[0].image === 'nginx:1.27');
    });
    const d = await json<{ spec: { template: { spec: { containers: { image: string }[] } } }; metadata: { annotations: Record<string, string> } }>([
      'get',
      'deployment',
      'web',
    ]);
    expect(d.spec.template.spec.containers[0].image).toBe('nginx:1.27');
    expect(d.metadata.annotations['deployment.kubernetes.io/revision']).toBe('3');
  });

  it('scales with kubectl scale, and pauses and resumes a rollout', async () => {
    await h.kubectl(['scale', 'deployment/web', '--replicas=5']);
    await waitFor('5 pods', async () => (await pods('app=web')).filter((p) => p.spec.nodeName).length === 5);
    await h.kubectl(['rollout', 'pause', 'deployment/web']);
    await h.kubectl(['set', 'image', 'deployment/web', 'nginx=nginx:1.29']);
    await sleep(1000);
    const paused = await json<{ status: { conditions: { type: string; reason: string }[]; updatedReplicas: number } }>(['get', 'deployment', 'web']);
    expect(paused.status.conditions.find((c) => c.type === 'Progressing')?.reason).toBe('DeploymentPaused');
    await h.kubectl(['rollout', 'resume', 'deployment/web']);
    await h.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    await h.kubectl(['scale', 'deployment/web', '--replicas=2']);
    await waitFor('2 pods', async () => (await pods('app=web')).length === 2);
  });

  it('leaves a pod no node can take Pending, with PodScheduled=False and a FailedScheduling event', async () => {
    await apply(
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'huge' },
        spec: { containers: [{ name: 'huge', image: 'nginx', resources: { requests: { cpu: '3' } } }] },
      }),
    );
    const pod = await waitFor('the PodScheduled condition', async () => {
      const p = await client.get<Pod>('/api/v1/namespaces/default/pods/huge');
      return p.status?.conditions?.some((c) => c.type === 'PodScheduled') && p;
    });
    const message = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    const events = await waitFor('the FailedScheduling event', async () => {
      const out = await h.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=huge', '-o', 'json']);
      const items = (JSON.parse(out.stdout) as { items: { reason: string; message: string; type: string }[] }).items;
      return items.length > 0 && items;
    });
    expect(events[0]).toMatchObject({ reason: 'FailedScheduling', type: 'Warning', message });
    const described = await h.kubectl(['describe', 'pod', 'huge']);
    expect(described.stdout).toContain('FailedScheduling');
    // A node with room appears: the pod is placed there.
    await client.create('/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'aks-big-0', labels: { 'kubernetes.io/hostname': 'aks-big-0' } },
      status: { allocatable: { cpu: '8', memory: '16Gi', pods: '110' } },
    });
    await waitFor('huge to be bound', async () => (await client.get<Pod>('/api/v1/namespaces/default/pods/huge')).spec.nodeName === 'aks-big-0');
  });

  it('keeps pods off a cordoned node', async () => {
    await h.kubectl(['cordon', 'aks-big-0']);
    await apply(deployment('cordoned', 4));
    const placed = await waitFor('4 bound pods', async () => {
      const list = await pods('app=cordoned');
      return list.length === 4 && list.every((p) => p.spec.nodeName) && list;
    });
    expect(placed.map((p) => p.spec.nodeName)).not.toContain('aks-big-0');
  });
});
