import type { ApiPod } from './pods';
import { claimOwnerReferences, planStatefulSet, statefulClaims, statefulPod, statefulSetStatus, type StatefulSet } from './statefulset.logic';

const sts = (spec: Partial<StatefulSet['spec']> = {}): StatefulSet => ({
  metadata: { name: 'web', namespace: 'default', uid: 'u1', generation: 2 },
  spec: {
    replicas: 3,
    serviceName: 'web',
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } },
    ...spec,
  },
});
const pod = (ordinal: number, state: 'ready' | 'pending' | 'failed' | 'terminating' = 'ready', revision = 'web-new'): ApiPod =>
  ({
    metadata: {
      name: `web-${ordinal}`,
      namespace: 'default',
      labels: { 'controller-revision-hash': revision },
      ...(state === 'terminating' ? { deletionTimestamp: 'x' } : {}),
    },
    spec: { containers: [] },
    status: {
      phase: state === 'failed' ? 'Failed' : state === 'pending' ? 'Pending' : 'Running',
      conditions: [{ type: 'Ready', status: state === 'ready' || state === 'terminating' ? 'True' : 'False' }],
    },
  }) as ApiPod;
const names = (plan: ReturnType<typeof planStatefulSet>) => ({ create: plan.create.map((c) => c.ordinal), delete: plan.delete.map((p) => p.metadata.name) });

describe('statefulset plan', () => {
  it('OrderedReady creates the next ordinal only after the previous is ready', () => {
    expect(names(planStatefulSet(sts(), [], 'web-new'))).toEqual({ create: [0], delete: [] });
    expect(names(planStatefulSet(sts(), [pod(0, 'pending')], 'web-new'))).toEqual({ create: [], delete: [] });
    expect(names(planStatefulSet(sts(), [pod(0)], 'web-new'))).toEqual({ create: [1], delete: [] });
    expect(names(planStatefulSet(sts({ ordinals: { start: 10 } }), [pod(10)], 'web-new'))).toEqual({ create: [11], delete: [] });
  });

  it('Parallel creates every missing pod at once', () => {
    expect(names(planStatefulSet(sts({ podManagementPolicy: 'Parallel' }), [pod(1, 'pending')], 'web-new'))).toEqual({ create: [0, 2], delete: [] });
  });

  it('replaces a failed pod, and scales down from the top one at a time', () => {
    expect(names(planStatefulSet(sts(), [pod(0), pod(1, 'failed')], 'web-new'))).toEqual({ create: [], delete: ['web-1'] });
    const five = [0, 1, 2, 3, 4].map((i) => pod(i));
    expect(names(planStatefulSet(sts(), five, 'web-new'))).toEqual({ create: [], delete: ['web-4'] });
    expect(names(planStatefulSet(sts(), [...five.slice(0, 4), pod(4, 'terminating')], 'web-new'))).toEqual({ create: [], delete: [] });
  });

  it('rolls from the highest ordinal down to the partition, waiting for each to be ready', () => {
    const old = [0, 1, 2].map((i) => pod(i, 'ready', 'web-old'));
    expect(names(planStatefulSet(sts(), old, 'web-new'))).toEqual({ create: [], delete: ['web-2'] });
    expect(names(planStatefulSet(sts(), [old[0], old[1], pod(2, 'pending')], 'web-new'))).toEqual({ create: [], delete: [] });
    expect(names(planStatefulSet(sts(), [old[0], old[1], pod(2)], 'web-new'))).toEqual({ create: [], delete: ['web-1'] });
    const partitioned = sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
    expect(names(planStatefulSet(partitioned, [old[0], old[1], pod(2)], 'web-new'))).toEqual({ create: [], delete: [] });
    // A pod below the partition is recreated at the current revision.
    expect(planStatefulSet(partitioned, [], 'web-new').create).toEqual([{ ordinal: 0, revision: 'current' }]);
    expect(names(planStatefulSet(sts({ updateStrategy: { type: 'OnDelete' } }), old, 'web-new'))).toEqual({ create: [], delete: [] });
  });

  it('reports revisions, and completes the rollout once every pod is updated and ready', () => {
    const mixed = statefulSetStatus(sts(), [pod(0, 'ready', 'web-old'), pod(1), pod(2)], 'web-old', 'web-new', new Date());
    expect(mixed).toMatchObject({
      replicas: 3,
      readyReplicas: 3,
      currentReplicas: 1,
      updatedReplicas: 2,
      currentRevision: 'web-old',
      updateRevision: 'web-new',
    });
    const done = statefulSetStatus(sts(), [pod(0), pod(1), pod(2)], 'web-old', 'web-new', new Date());
    expect(done).toMatchObject({ currentReplicas: 3, currentRevision: 'web-new', observedGeneration: 2 });
  });

  it('gives each pod its identity', () => {
    const p = statefulPod(sts(), sts().spec.template, 4, 'web-abc') as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    expect(p.metadata).toMatchObject({
      name: 'web-4',
      labels: { app: 'web', 'controller-revision-hash': 'web-abc', 'statefulset.kubernetes.io/pod-name': 'web-4', 'apps.kubernetes.io/pod-index': '4' },
    });
    expect(p.spec).toMatchObject({ hostname: 'web-4', subdomain: 'web' });
  });

  const withClaims = (policy?: StatefulSet['spec']['persistentVolumeClaimRetentionPolicy']) =>
    sts({
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: { app: 'other', tier: 'db' } },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ],
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [],
          volumes: [
            { name: 'data', emptyDir: {} },
            { name: 'cfg', configMap: { name: 'c' } },
          ],
        } as never,
      },
      ...(policy && { persistentVolumeClaimRetentionPolicy: policy }),
    });

  it('gives each ordinal its claims, named <template>-<set>-<ordinal>, and mounts them in place of same-named volumes', () => {
    const set = withClaims();
    expect(statefulClaims(set, 2)).toEqual([
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data-web-2', namespace: 'default', labels: { app: 'web', tier: 'db' } },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      },
    ]);
    const p = statefulPod(set, set.spec.template, 2, 'web-abc') as { spec: { volumes: unknown[] } };
    expect(p.spec.volumes).toEqual([
      { name: 'data', persistentVolumeClaim: { claimName: 'data-web-2' } },
      { name: 'cfg', configMap: { name: 'c' } },
    ]);
  });

  it('owns claims by the retention policy: none by default, the set for whenDeleted Delete, the pod once scaled away for whenScaled Delete', () => {
    const setRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true };
    const pod2 = { name: 'web-2', uid: 'p2' };
    const podRef = { apiVersion: 'v1', kind: 'Pod', name: 'web-2', uid: 'p2', controller: true, blockOwnerDeletion: true };
    expect(statefulClaims(withClaims(), 0)[0]).not.toHaveProperty('metadata.ownerReferences');
    expect(statefulClaims(withClaims({ whenDeleted: 'Delete' }), 0)[0]).toHaveProperty('metadata.ownerReferences', [setRef]);
    const scaling = withClaims({ whenScaled: 'Delete', whenDeleted: 'Delete' });
    // In range (replicas 3): the set; scaled to 2, ordinal 2 moves to its pod.
    expect(claimOwnerReferences(scaling, { metadata: {} }, 2, pod2)).toEqual([setRef]);
    expect(claimOwnerReferences(scaling, { metadata: { ownerReferences: [setRef] } }, 2, pod2)).toBeUndefined();
    const scaledDown = { ...scaling, spec: { ...scaling.spec, replicas: 2 } };
    expect(claimOwnerReferences(scaledDown, { metadata: { ownerReferences: [setRef] } }, 2, pod2)).toEqual([podRef]);
    // Back to Retain: the set's reference goes, others stay; a claim another controller owns is not taken.
    const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'x1' };
    expect(claimOwnerReferences(withClaims(), { metadata: { ownerReferences: [other, setRef] } }, 0)).toEqual([other]);
    const foreign = { ...other, controller: true };
    expect(claimOwnerReferences(withClaims({ whenDeleted: 'Delete' }), { metadata: { ownerReferences: [foreign] } }, 0)).toBeUndefined();
    // A reference to an earlier set of the same name (another uid) marks a claim left by that set: untouched.
    expect(claimOwnerReferences(withClaims({ whenDeleted: 'Delete' }), { metadata: { ownerReferences: [{ ...setRef, uid: 'old' }] } }, 0)).toBeUndefined();
  });
});
