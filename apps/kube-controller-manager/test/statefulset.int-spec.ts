import { setTimeout as sleep } from 'node:timers/promises';
import { startHarness, type Harness } from '../../kube-apiserver/test/harness';
import { KubeApiError, KubeClient } from '../src/client/kube-client';
import { InformerHub } from '../src/controllers/informer-hub';
import { PersistentVolumeController } from '../src/controllers/persistent-volume.controller';
import { PvcProtectionController } from '../src/controllers/pvc-protection';
import { StatefulSetController } from '../src/controllers/statefulset.controller';
import { Scheduler } from '../src/scheduler/scheduler';
import { createNode, ensureStorageClass, setPodPhase, startStandInKubelet, waitFor, type TestPod } from './stand-in-kubelet';

jest.setTimeout(90_000);

interface StsObj {
  status?: { replicas: number; readyReplicas?: number; currentReplicas?: number; updatedReplicas?: number; currentRevision?: string; updateRevision?: string };
}

/**
 * The StatefulSet controller with the scheduler against the real API server, driven by kubectl. The test plays the
 * kubelet and decides when pods turn Running and Ready, to watch OrderedReady wait for them.
 */
describe('StatefulSet controller', () => {
  let h: Harness;
  let client: KubeClient;
  let hub: InformerHub;
  let scheduler: Scheduler;
  let controller: StatefulSetController;
  let volumeControllers: (PersistentVolumeController | PvcProtectionController)[];
  let stopKubelet: () => Promise<void>;
  let autoRun = false;

  const podsOf = async (selector: string) => (await client.list<TestPod>('/api/v1/namespaces/default/pods', { labelSelector: selector })).items;
  const names = (pods: TestPod[]) => pods.map((p) => p.metadata.name).sort();
  const getSts = (name: string) => client.get<StsObj>(`/apis/apps/v1/namespaces/default/statefulsets/${name}`);
  const statefulSet = (name: string, spec: object = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas: 3,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'db', image: 'postgres:16' }] } },
      ...spec,
    },
  });
  const apply = (manifest: object) => h.kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
  const pod = (name: string) => client.get<TestPod>(`/api/v1/namespaces/default/pods/${name}`);

  beforeAll(async () => {
    // Node lifecycle takes the API server's not-ready taint off the nodes once it sees them Ready.
    h = await startHarness({}, ['garbage-collector', 'node-lifecycle']);
    client = new KubeClient({ server: h.server.url, ca: h.ca.certPem, cert: h.admin.certPem, key: h.admin.keyPem });
    await createNode(client, 'node-a');
    await createNode(client, 'node-b');
    hub = new InformerHub(client);
    scheduler = new Scheduler(client, hub, { retryUnschedulableMs: 1000 });
    controller = new StatefulSetController({ client, informers: hub });
    // Claims from volumeClaimTemplates are bound (the scheduler waits for that) and let go once unused.
    volumeControllers = [new PersistentVolumeController({ client, informers: hub }), new PvcProtectionController({ client, informers: hub })];
    hub.start();
    scheduler.start();
    controller.start();
    for (const c of volumeControllers) c.start();
    stopKubelet = startStandInKubelet(client, () => autoRun);
  });

  afterAll(async () => {
    await stopKubelet?.();
    await Promise.all([controller?.stop(), scheduler?.stop(), ...(volumeControllers ?? []).map((c) => c.stop())]);
    await hub?.stop();
    client?.close();
    await h?.close();
  });

  it('creates pods in order, each once the one before is Running and Ready, with stable identities', async () => {
    await apply(statefulSet('db'));
    const first = await waitFor('db-0', async () => {
      const list = await podsOf('app=db');
      return list.length === 1 && !!list[0].spec.nodeName && list[0];
    });
    expect(first.metadata.name).toBe('db-0');
    expect(first.spec.hostname).toBe('db-0');
    expect(first.spec.subdomain).toBe('db');
    expect(first.metadata.labels).toMatchObject({ 'statefulset.kubernetes.io/pod-name': 'db-0', 'apps.kubernetes.io/pod-index': '0' });
    expect(first.metadata.labels?.['controller-revision-hash']).toMatch(/^db-[a-z0-9]+$/);
    expect(first.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'StatefulSet', name: 'db', controller: true });
    // db-1 waits for db-0 to be ready.
    await sleep(1500);
    expect(names(await podsOf('app=db'))).toEqual(['db-0']);
    await setPodPhase(client, first, 'Running');
    const second = await waitFor('db-1', async () => (await podsOf('app=db')).find((p) => p.metadata.name === 'db-1' && p.spec.nodeName));
    await sleep(1000);
    expect(names(await podsOf('app=db'))).toEqual(['db-0', 'db-1']);
    await setPodPhase(client, second, 'Running');
    await waitFor('db-2', async () => names(await podsOf('app=db')).includes('db-2'));
    autoRun = true;
    await h.kubectl(['rollout', 'status', 'statefulset/db', '--timeout=30s']);
    const sts = await getSts('db');
    expect(sts.status).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3 });
    expect(sts.status?.currentRevision).toBe(sts.status?.updateRevision);
  });

  it('scales down from the highest ordinal, one pod at a time', async () => {
    const seen: string[] = [];
    await h.kubectl(['scale', 'statefulset/db', '--replicas=1']);
    await waitFor('1 pod left', async () => {
      const now = names((await podsOf('app=db')).filter((p) => !p.metadata.deletionTimestamp));
      if (seen[seen.length - 1] !== now.join()) seen.push(now.join());
      return now.length === 1;
    });
    expect(seen).not.toContain('db-0,db-2');
    expect(seen[seen.length - 1]).toBe('db-0');
    // The controller's events, in the order the server stored them, say the same: db-2 went before db-1.
    const events = (
      await client.list<{ reason: string; message: string; metadata: { resourceVersion: string } }>('/api/v1/namespaces/default/events', {
        fieldSelector: 'involvedObject.name=db',
      })
    ).items
      .filter((e) => e.reason === 'SuccessfulDelete')
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
      .map((e) => e.message);
    expect(events).toEqual(['delete Pod db-2 in StatefulSet db successful', 'delete Pod db-1 in StatefulSet db successful']);
    await waitFor('status replicas 1', async () => (await getSts('db')).status?.replicas === 1);
  });

  it('rolls a new template out above the partition only, then to all from the highest ordinal down, and rolls back', async () => {
    await h.kubectl(['scale', 'statefulset/db', '--replicas=3']);
    await h.kubectl(['rollout', 'status', 'statefulset/db', '--timeout=30s']);
    const oldRevision = (await getSts('db')).status?.currentRevision;
    await h.kubectl(['patch', 'statefulset', 'db', '--type=merge', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}']);
    await h.kubectl(['set', 'image', 'statefulset/db', 'db=postgres:17']);
    const partitioned = await h.kubectl(['rollout', 'status', 'statefulset/db', '--timeout=30s']);
    expect(partitioned.stdout).toContain('partitioned roll out complete');
    const images = async () => Object.fromEntries((await podsOf('app=db')).map((p) => [p.metadata.name, p.spec.containers[0].image]));
    expect(await images()).toEqual({ 'db-0': 'postgres:16', 'db-1': 'postgres:16', 'db-2': 'postgres:17' });
    const partial = await getSts('db');
    expect(partial.status).toMatchObject({ updatedReplicas: 1, currentReplicas: 2, currentRevision: oldRevision });
    expect(partial.status?.updateRevision).not.toBe(oldRevision);
    expect((await pod('db-2')).metadata.labels?.['controller-revision-hash']).toBe(partial.status?.updateRevision);
    // Partition 0: db-1 then db-0 follow.
    await h.kubectl(['patch', 'statefulset', 'db', '--type=merge', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}']);
    await h.kubectl(['rollout', 'status', 'statefulset/db', '--timeout=30s']);
    expect(await images()).toEqual({ 'db-0': 'postgres:17', 'db-1': 'postgres:17', 'db-2': 'postgres:17' });
    const done = await getSts('db');
    expect(done.status?.currentRevision).toBe(partial.status?.updateRevision);
    const history = await h.kubectl(['rollout', 'history', 'statefulset/db']);
    expect(history.stdout).toMatch(/^2\s/m);
    await h.kubectl(['rollout', 'undo', 'statefulset/db']);
    await waitFor('all pods back on postgres:16', async () => Object.values(await images()).every((i) => i === 'postgres:16'), 45_000);
    await h.kubectl(['rollout', 'status', 'statefulset/db', '--timeout=30s']);
    expect((await getSts('db')).status?.currentRevision).toBe(oldRevision);
  });

  it('creates all pods at once under Parallel, numbered from spec.ordinals.start', async () => {
    autoRun = false;
    await apply(statefulSet('cache', { podManagementPolicy: 'Parallel', ordinals: { start: 5 } }));
    await waitFor('3 pods without readiness', async () => names(await podsOf('app=cache')).join() === 'cache-5,cache-6,cache-7');
    autoRun = true;
    await h.kubectl(['rollout', 'status', 'statefulset/cache', '--timeout=30s']);
  });

  interface ClaimObj {
    metadata: { name: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[] };
    spec: { storageClassName?: string };
    status?: { phase?: string };
  }
  const claimsOf = async (selector: string) =>
    (await client.list<ClaimObj>('/api/v1/namespaces/default/persistentvolumeclaims', { labelSelector: selector })).items;
  const getClaim = (name: string) => client.get<ClaimObj>(`/api/v1/namespaces/default/persistentvolumeclaims/${name}`);
  const claimGone = (name: string) =>
    getClaim(name).then(
      () => false,
      (err: unknown) => err instanceof KubeApiError && err.code === 404,
    );
  const withClaims = (name: string, spec: object = {}) =>
    statefulSet(name, {
      replicas: 2,
      podManagementPolicy: 'Parallel',
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: { tier: 'storage' } },
          spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'managed-csi', resources: { requests: { storage: '1Gi' } } },
        },
      ],
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'db', image: 'postgres:16', volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql/data' }] }] },
      },
      ...spec,
    });

  it('makes the claims of volumeClaimTemplates before their pods, mounts them, and keeps them when the set goes', async () => {
    autoRun = true;
    // The class the API server's bootstrap makes (made here when it has not).
    await ensureStorageClass(client, 'managed-csi');
    await apply(withClaims('web'));
    await h.kubectl(['rollout', 'status', 'statefulset/web', '--timeout=45s']);
    const claims = await claimsOf('app=web');
    expect(claims.map((c) => c.metadata.name).sort()).toEqual(['data-web-0', 'data-web-1']);
    for (const c of claims) {
      expect(c.metadata.labels).toEqual({ app: 'web', tier: 'storage' });
      expect(c.metadata.ownerReferences ?? []).toEqual([]);
      // Bound to a volume made for it on its pod's node.
      expect(c.status?.phase).toBe('Bound');
    }
    for (const i of [0, 1]) {
      const p = (await pod(`web-${i}`)) as TestPod & { spec: { volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[] } };
      expect(p.spec.volumes?.find((v) => v.name === 'data')).toEqual({ name: 'data', persistentVolumeClaim: { claimName: `data-web-${i}` } });
    }
    // Each claim was made (and told) before its pod.
    const told = (
      await client.list<{ reason: string; message: string; metadata: { resourceVersion: string } }>('/api/v1/namespaces/default/events', {
        fieldSelector: 'involvedObject.name=web',
      })
    ).items
      .filter((e) => e.reason === 'SuccessfulCreate')
      .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
      .map((e) => e.message);
    for (const i of [0, 1]) {
      const claimEvent = told.indexOf(`create Claim data-web-${i} Pod web-${i} in StatefulSet web success`);
      expect(claimEvent).toBeGreaterThanOrEqual(0);
      expect(claimEvent).toBeLessThan(told.indexOf(`create Pod web-${i} in StatefulSet web successful`));
    }

    // A replaced pod gets the same claim back.
    await h.kubectl(['delete', 'pod', 'web-1', '--wait=true']);
    await h.kubectl(['rollout', 'status', 'statefulset/web', '--timeout=45s']);
    expect((await claimsOf('app=web')).map((c) => c.metadata.name).sort()).toEqual(['data-web-0', 'data-web-1']);

    // whenDeleted defaults to Retain: the claims outlive the set and its pods.
    await h.kubectl(['delete', 'statefulset', 'web']);
    await waitFor('web pods gone', async () => (await podsOf('app=web')).length === 0);
    await sleep(1000);
    expect((await claimsOf('app=web')).map((c) => c.metadata.name).sort()).toEqual(['data-web-0', 'data-web-1']);
  });

  it('whenDeleted Delete makes the set own its claims, and they go with it; whenScaled Delete removes the claims of scaled-away pods', async () => {
    await apply(withClaims('logs', { persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' } }));
    await h.kubectl(['rollout', 'status', 'statefulset/logs', '--timeout=45s']);
    const set = await client.get<{ metadata: { uid: string } }>('/apis/apps/v1/namespaces/default/statefulsets/logs');
    for (const c of await claimsOf('app=logs')) {
      expect(c.metadata.ownerReferences).toEqual([
        { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'logs', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
    }
    // Scaled to one: data-logs-1 goes with its pod, data-logs-0 stays.
    await h.kubectl(['scale', 'statefulset/logs', '--replicas=1']);
    await waitFor('data-logs-1 gone', () => claimGone('data-logs-1'), 45_000);
    expect(await claimGone('data-logs-0')).toBe(false);

    await h.kubectl(['delete', 'statefulset', 'logs']);
    await waitFor('data-logs-0 gone with the set', () => claimGone('data-logs-0'), 45_000);
  });
  it('binds only the pod whose node got the volume when two pods on different nodes race for one new claim', async () => {
    await ensureStorageClass(client, 'managed-csi');
    await client.create('/api/v1/namespaces/default/persistentvolumeclaims', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'shared' },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'managed-csi', resources: { requests: { storage: '1Gi' } } },
    });
    const pod = (name: string, node: string) =>
      client.create('/api/v1/namespaces/default/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { app: 'race' } },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': node },
          containers: [{ name: 'c', image: 'busybox:1.36', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'shared' } }],
        },
      });
    await Promise.all([pod('race-a', 'node-a'), pod('race-b', 'node-b')]);
    const claim = await waitFor('the claim bound', async () => {
      const c = await client.get<{ spec: { volumeName?: string }; status?: { phase?: string } }>('/api/v1/namespaces/default/persistentvolumeclaims/shared');
      return c.status?.phase === 'Bound' && c;
    });
    const pv = await client.get<{ spec: { nodeAffinity: { required: { nodeSelectorTerms: { matchExpressions: { values: string[] }[] }[] } } } }>(
      `/api/v1/persistentvolumes/${claim.spec.volumeName}`,
    );
    const volumeNode = pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0];
    // The pod on the volume's node is bound there; the other one waits, saying why (upstream's checkBindings, then Filter).
    const [winner, loser] = volumeNode === 'node-a' ? ['race-a', 'race-b'] : ['race-b', 'race-a'];
    await waitFor('the winner bound', async () => (await podsOf('app=race')).find((p) => p.metadata.name === winner)?.spec.nodeName === volumeNode);
    // (Until the scheduler's cache has the claim it may first say the claim is not found, then try again.)
    const waiting = await waitFor('the other pod unschedulable for the volume', async () => {
      const p = (await podsOf('app=race')).find((x) => x.metadata.name === loser);
      const scheduled = p?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False') as { message?: string } | undefined;
      return scheduled?.message?.includes('node(s) had volume node affinity conflict') && p;
    });
    expect(waiting.spec.nodeName).toBeUndefined();
    await sleep(1500);
    expect((await podsOf('app=race')).find((x) => x.metadata.name === loser)?.spec.nodeName).toBeUndefined();
  });
  it("places a pod whose claim's class does not provision on the node of an administrator's volume, and binds that volume", async () => {
    await ensureStorageClass(client, 'local-disks', { provisioner: 'kubernetes.io/no-provisioner' });
    await client.create('/api/v1/persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'disk-on-b' },
      spec: {
        storageClassName: 'local-disks',
        capacity: { storage: '2Gi' },
        accessModes: ['ReadWriteOnce'],
        local: { path: '/mnt/disk' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-b'] }] }] } },
      },
    });
    await client.create('/api/v1/namespaces/default/persistentvolumeclaims', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'on-disk' },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-disks', resources: { requests: { storage: '1Gi' } } },
    });
    await client.create('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'disk-user', labels: { app: 'disk-user' } },
      spec: {
        containers: [{ name: 'c', image: 'busybox:1.36', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'on-disk' } }],
      },
    });
    await waitFor('the pod on node-b', async () => (await podsOf('app=disk-user'))[0]?.spec.nodeName === 'node-b');
    const claim = await client.get<{ spec: { volumeName?: string }; status?: { phase?: string } }>('/api/v1/namespaces/default/persistentvolumeclaims/on-disk');
    expect(claim.spec.volumeName).toBe('disk-on-b');
    expect(claim.status?.phase).toBe('Bound');
  });
});
