import type { ApiPod } from './pods';
import { mattersToOwner, replicaSetStatus, type ReplicaSet } from './replicaset.controller';

const T = '2026-12-05T06:00:00Z';
const pod = (over: { labels?: Record<string, string>; ready?: string; since?: string; phase?: string; node?: string; deleting?: boolean } = {}): ApiPod => ({
  metadata: {
    name: 'web-1',
    namespace: 'default',
    labels: over.labels ?? { app: 'web', tier: 'front' },
    ownerReferences: [{ kind: 'ReplicaSet', name: 'web', uid: 'rs1', controller: true }],
    ...(over.deleting ? { deletionTimestamp: T } : {}),
  },
  spec: { containers: [{ name: 'c' }], ...(over.node ? { nodeName: over.node } : {}) },
  status: {
    phase: over.phase ?? 'Running',
    conditions: over.ready ? [{ type: 'Ready', status: over.ready, lastTransitionTime: over.since ?? T }] : [],
    containerStatuses: [{ restartCount: 0 }],
  },
});

describe('ReplicaSet controller logic', () => {
  it('syncs its ReplicaSet for a pod update only when it changes what the ReplicaSet counts or claims', () => {
    const base = pod({ ready: 'False' });
    // A binding, or a container restart, changes nothing the ReplicaSet does or reports.
    expect(mattersToOwner(base, { ...base, spec: { ...base.spec, nodeName: 'n1' } })).toBe(false);
    expect(mattersToOwner(base, { ...base, status: { ...base.status, containerStatuses: [{ restartCount: 3 }] } })).toBe(false);
    expect(mattersToOwner(base, pod({ ready: 'True' }))).toBe(true);
    expect(mattersToOwner(pod({ ready: 'True' }), pod({ ready: 'True', since: '2026-12-05T06:01:00Z' }))).toBe(true);
    expect(mattersToOwner(base, pod({ ready: 'False', phase: 'Failed' }))).toBe(true);
    expect(mattersToOwner(base, pod({ ready: 'False', deleting: true }))).toBe(true);
    expect(mattersToOwner(base, pod({ ready: 'False', labels: { app: 'web' } }))).toBe(true);
    expect(mattersToOwner(base, { ...base, metadata: { ...base.metadata, ownerReferences: [] } })).toBe(true);
  });

  it('counts replicas, fully labeled, ready and available pods as upstream calculateStatus does', () => {
    const rs: ReplicaSet = {
      metadata: { name: 'web', namespace: 'default', uid: 'rs1', generation: 4 },
      spec: {
        replicas: 4,
        minReadySeconds: 30,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web', tier: 'front' } }, spec: { containers: [] } },
      },
    };
    const now = new Date('2026-12-05T06:01:00Z');
    const pods = [
      pod({ ready: 'True', since: '2026-12-05T06:00:00Z' }), // ready for 60 s: available
      pod({ ready: 'True', since: '2026-12-05T06:00:45Z' }), // ready for 15 s: not yet available
      pod({ ready: 'False', labels: { app: 'web' } }), // matches the selector, not every template label
      pod(),
    ];
    expect(replicaSetStatus(rs, pods, now)).toEqual({ replicas: 4, fullyLabeledReplicas: 3, readyReplicas: 2, availableReplicas: 1, observedGeneration: 4 });
  });
});
