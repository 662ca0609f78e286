import { startHarness, type Harness } from '../../kube-apiserver/test/harness';
import { KubeClient } from '../src/client/kube-client';
import { DaemonSetController } from '../src/controllers/daemonset.controller';
import { InformerHub } from '../src/controllers/informer-hub';
import { Scheduler } from '../src/scheduler/scheduler';
import { createNode, setPodPhase, startStandInKubelet, waitFor, type TestPod } from './stand-in-kubelet';

jest.setTimeout(90_000);

interface DsObj {
  status?: {
    desiredNumberScheduled: number;
    currentNumberScheduled: number;
    numberReady: number;
    numberAvailable?: number;
    updatedNumberScheduled?: number;
    numberMisscheduled: number;
    observedGeneration?: number;
  };
}
interface Revision {
  metadata: { name: string; labels: Record<string, string>; ownerReferences: { kind: string; name: string }[] };
  revision: number;
}

/**
 * The DaemonSet controller with the scheduler against the real API server, driven by kubectl; the test plays the
 * kubelet (bound pods become Running and Ready, deleted ones go).
 */
describe('DaemonSet controller', () => {
  let h: Harness;
  let client: KubeClient;
  let hub: InformerHub;
  let scheduler: Scheduler;
  let controller: DaemonSetController;
  let stopKubelet: () => Promise<void>;

  const podsOf = async (selector: string) => (await client.list<TestPod>('/api/v1/namespaces/default/pods', { labelSelector: selector })).items;
  const getDs = (name: string) => client.get<DsObj>(`/apis/apps/v1/namespaces/default/daemonsets/${name}`);
  const daemonSet = (name: string, podSpec: object = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'agent', image: 'fluent-bit:3.0' }], ...podSpec } },
    },
  });
  const apply = (manifest: object) => h.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
  const nodesOf = (pods: TestPod[]) => pods.map((p) => p.spec.nodeName).sort();

  beforeAll(async () => {
    // Node lifecycle takes the API server's not-ready taint off the nodes once it sees them Ready.
    h = await startHarness({}, ['garbage-collector', 'node-lifecycle']);
    client = new KubeClient({ server: h.server.url, ca: h.ca.certPem, cert: h.admin.certPem, key: h.admin.keyPem });
    await createNode(client, 'node-a', { disk: 'ssd' });
    await createNode(client, 'node-b');
    await createNode(client, 'node-gpu', {}, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    hub = new InformerHub(client);
    scheduler = new Scheduler(client, hub, { retryUnschedulableMs: 1000 });
    controller = new DaemonSetController({ client, informers: hub });
    hub.start();
    scheduler.start();
    controller.start();
    stopKubelet = startStandInKubelet(client, () => true);
  });

  afterAll(async () => {
    await stopKubelet?.();
    await Promise.all([controller?.stop(), scheduler?.stop()]);
    await hub?.stop();
    client?.close();
    await h?.close();
  });

  it('runs one pod on each node it tolerates, pinned by node affinity and bound by the scheduler', async () => {
    await apply(daemonSet('agent'));
    const pods = await waitFor('2 bound pods', async () => {
      const list = await podsOf('app=agent');
      return list.length === 2 && list.every((p) => p.spec.nodeName) && list;
    });
    expect(nodesOf(pods)).toEqual(['node-a', 'node-b']);
    for (const p of pods) {
      expect(p.spec.affinity).toEqual({
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [p.spec.nodeName] }] }],
          },
        },
      });
      expect(p.metadata.labels?.['pod-template-generation']).toBe('1');
      expect(p.metadata.labels?.['controller-revision-hash']).toMatch(/^[a-z0-9]+$/);
      expect(p.spec.tolerations).toEqual(
        expect.arrayContaining([
          { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
          { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
        ]),
      );
    }
    await h.kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=30s']);
    const ds = await getDs('agent');
    expect(ds.status).toMatchObject({
      desiredNumberScheduled: 2,
      currentNumberScheduled: 2,
      numberReady: 2,
      numberAvailable: 2,
      updatedNumberScheduled: 2,
      numberMisscheduled: 0,
    });
    const table = await h.kubectl(['get', 'ds', 'agent']);
    expect(table.stdout).toMatch(/agent\s+2\s+2\s+2\s+2\s+2/);
  });

  it('follows a new node, and a toleration or nodeSelector changes where pods run', async () => {
    await createNode(client, 'node-c');
    await waitFor('a pod on node-c', async () => nodesOf(await podsOf('app=agent')).join() === 'node-a,node-b,node-c');
    // Tolerating the taint brings the gpu node in.
    await apply(daemonSet('tolerant', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }));
    await waitFor('4 tolerant pods', async () => nodesOf(await podsOf('app=tolerant')).join() === 'node-a,node-b,node-c,node-gpu');
    await apply(daemonSet('ssd', { nodeSelector: { disk: 'ssd' } }));
    await waitFor('1 ssd pod', async () => nodesOf(await podsOf('app=ssd')).join() === 'node-a');
    // Labelling another node adds it; the status counts it.
    await client.patch('/api/v1/nodes/node-b', { metadata: { labels: { disk: 'ssd' } } });
    await waitFor('2 ssd pods', async () => nodesOf(await podsOf('app=ssd')).join() === 'node-a,node-b');
    await waitFor('status desired 2', async () => (await getDs('ssd')).status?.desiredNumberScheduled === 2);
  });

  it('replaces a failed daemon pod on its node', async () => {
    const victim = (await podsOf('app=agent')).find((p) => p.spec.nodeName === 'node-b')!;
    await setPodPhase(client, victim, 'Failed', false);
    const replacement = await waitFor('a new pod on node-b', async () => {
      const onB = (await podsOf('app=agent')).filter((p) => p.spec.nodeName === 'node-b');
      return onB.length === 1 && onB[0].metadata.uid !== victim.metadata.uid && onB[0];
    });
    expect(replacement.metadata.name).not.toBe(victim.metadata.name);
    const events = await h.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=agent', '-o', 'json']);
    expect(events.stdout).toContain('FailedDaemonPod');
  });

  it('rolls a new template out node by node, keeps ControllerRevisions, and rolls back with kubectl', async () => {
    const before = await podsOf('app=agent');
    const oldHash = before[0].metadata.labels?.['controller-revision-hash'];
    await h.kubectl(['set', 'image', 'daemonset/agent', 'agent=fluent-bit:3.1']);
    await h.kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=60s']);
    const after = await waitFor('3 updated pods', async () => {
      const list = await podsOf('app=agent');
      return list.length === 3 && list.every((p) => p.spec.containers[0].image === 'fluent-bit:3.1' && p.spec.nodeName) && list;
    });
    const newHash = after[0].metadata.labels?.['controller-revision-hash'];
    expect(newHash).not.toBe(oldHash);
    expect(after.every((p) => p.metadata.labels?.['pod-template-generation'] === '2')).toBe(true);
    const revisions = (await client.list<Revision>('/apis/apps/v1/namespaces/default/controllerrevisions', { labelSelector: 'app=agent' })).items;
    expect(revisions.map((r) => [r.revision, r.metadata.labels['controller-revision-hash']]).sort()).toEqual([
      [1, oldHash],
      [2, newHash],
    ]);
    expect(revisions[0].metadata.ownerReferences[0]).toMatchObject({ kind: 'DaemonSet', name: 'agent' });
    const table = await h.kubectl(['get', 'controllerrevisions', '-l', 'app=agent']);
    expect(table.stdout).toMatch(/^NAME\s+CONTROLLER\s+REVISION\s+AGE/);
    expect(table.stdout).toMatch(new RegExp(`agent-${newHash}\\s+daemonset.apps/agent\\s+2\\s`));
    const history = await h.kubectl(['rollout', 'history', 'daemonset/agent']);
    expect(history.stdout).toMatch(/^1\s/m);
    expect(history.stdout).toMatch(/^2\s/m);
    await h.kubectl(['rollout', 'undo', 'daemonset/agent']);
    await h.kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=60s']);
    await waitFor('pods back on the old image', async () => {
      const list = await podsOf('app=agent');
      return (
        list.length === 3 && list.every((p) => p.spec.containers[0].image === 'fluent-bit:3.0' && p.metadata.labels?.['controller-revision-hash'] === oldHash)
      );
    });
    const renumbered = (await client.list<Revision>('/apis/apps/v1/namespaces/default/controllerrevisions', { labelSelector: 'app=agent' })).items;
    expect(renumbered.find((r) => r.metadata.labels['controller-revision-hash'] === oldHash)?.revision).toBe(3);
  });
});
