import {
  historyToDelete,
  newReplicaSetReplicas,
  oldScaleDownBudget,
  planOldScaleDown,
  podTemplateHash,
  proportionalScale,
  resolveFenceposts,
  sameTemplate,
  scaledValue,
  setCondition,
  type Deployment,
} from './deployment.logic';
import { deletionOrder, type ApiPod } from './pods';
import type { ReplicaSet } from './replicaset.controller';

const deployment = (replicas: number, rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string }, type?: 'Recreate'): Deployment => ({
  metadata: { name: 'web', namespace: 'default', uid: 'd1', generation: 1 },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c' }] } },
    strategy: type ? { type } : { type: 'RollingUpdate', rollingUpdate },
  },
});

let created = 0;
const rs = (name: string, replicas: number, available = replicas, extra: Partial<ReplicaSet['metadata']> = {}): ReplicaSet => ({
  metadata: { name, namespace: 'default', uid: name, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, ++created)).toISOString(), ...extra },
  spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [] } } },
  status: { replicas, availableReplicas: available },
});

describe('rolling-update arithmetic', () => {
  it('resolves percentages as upstream rounds them (surge up, unavailable down) and never lets both be zero', () => {
    expect(scaledValue('25%', 10, true, 0)).toBe(3);
    expect(scaledValue('25%', 10, false, 0)).toBe(2);
    expect(scaledValue(undefined, 4, true, '25%')).toBe(1);
    expect(resolveFenceposts(deployment(1))).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(resolveFenceposts(deployment(3, { maxSurge: 0, maxUnavailable: 0 }))).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });

  it('rolls 10 replicas from the old set to the new one within maxSurge and maxUnavailable', () => {
    const d = deployment(10);
    const oldRS = rs('web-old', 10);
    const newRS = rs('web-new', 0);
    const sets = [oldRS, newRS];
    const total = () => sets.reduce((n, s) => n + (s.spec.replicas ?? 0), 0);
    const available = () => sets.reduce((n, s) => n + (s.status?.availableReplicas ?? 0), 0);
    for (let round = 0; round < 20 && (oldRS.spec.replicas ?? 0) > 0; round++) {
      newRS.spec.replicas = newReplicaSetReplicas(d, sets, newRS);
      expect(total()).toBeLessThanOrEqual(13);
      // New pods start but are not available yet: the budget must hold the line on availability.
      newRS.status = { replicas: newRS.spec.replicas, availableReplicas: newRS.status?.availableReplicas ?? 0 };
      const plan = planOldScaleDown(d, [oldRS], sets, oldScaleDownBudget(d, sets, newRS));
      if (plan.has('web-old')) oldRS.spec.replicas = plan.get('web-old');
      oldRS.status = { replicas: oldRS.spec.replicas ?? 0, availableReplicas: Math.min(oldRS.status?.availableReplicas ?? 0, oldRS.spec.replicas ?? 0) };
      expect(available()).toBeGreaterThanOrEqual(8);
      // Then they turn available.
      newRS.status = { replicas: newRS.spec.replicas, availableReplicas: newRS.spec.replicas };
    }
    expect([oldRS.spec.replicas, newRS.spec.replicas]).toEqual([0, 10]);
  });

  it('scales unavailable old replicas down first, without touching available ones beyond the budget', () => {
    const d = deployment(4, { maxSurge: 0, maxUnavailable: 1 });
    const broken = rs('web-a', 2, 0);
    const healthy = rs('web-b', 2, 2);
    const newRS = rs('web-c', 0);
    const all = [broken, healthy, newRS];
    // 4 pods, 3 must stay available: one may go, and it is an unavailable one.
    const plan = planOldScaleDown(d, [broken, healthy], all, oldScaleDownBudget(d, all, newRS));
    expect(Object.fromEntries(plan)).toEqual({ 'web-a': 1 });
  });

  it('shares a replica change mid-rollout in proportion, the rest to the newest set when growing', () => {
    const d = deployment(20);
    const oldRS = rs('web-old', 8);
    const newRS = rs('web-new', 5);
    const plan = proportionalScale(d, [oldRS, newRS], newRS);
    const after = (s: ReplicaSet) => plan.get(s.metadata.name) ?? s.spec.replicas;
    expect(after(oldRS)! + after(newRS)!).toBe(25); // 20 + maxSurge 5
    expect(after(oldRS)).toBeGreaterThan(8);
    expect(after(newRS)).toBeGreaterThan(5);
    expect(Object.fromEntries(proportionalScale(deployment(3), [oldRS], undefined))).toEqual({ 'web-old': 3 });
  });

  it('keeps revisionHistoryLimit empty old sets and deletes the oldest beyond it', () => {
    const d = { ...deployment(1), spec: { ...deployment(1).spec, revisionHistoryLimit: 2 } };
    const old = [rs('r1', 0), rs('r2', 0), rs('r3', 0), rs('r4', 1)];
    expect(historyToDelete(d, old).map((s) => s.metadata.name)).toEqual(['r1']);
  });
});

describe('pod template hash', () => {
  it('is stable across key order, differs per template and collision count, and uses the safe alphabet', () => {
    const a = { metadata: { labels: { app: 'web', tier: 'x' } }, spec: { containers: [{ name: 'c' }] } };
    const b = { spec: { containers: [{ name: 'c' }] }, metadata: { labels: { tier: 'x', app: 'web' } } };
    expect(podTemplateHash(a)).toBe(podTemplateHash(b));
    expect(podTemplateHash(a)).not.toBe(podTemplateHash(a, 1));
    expect(podTemplateHash(a)).not.toBe(podTemplateHash({ ...a, spec: { containers: [{ name: 'd' }] } }));
    expect(podTemplateHash(a)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(sameTemplate({ ...a, metadata: { labels: { ...a.metadata.labels, 'pod-template-hash': 'xyz' } } }, b)).toBe(true);
  });
});

describe('conditions', () => {
  it('keeps lastTransitionTime while the status holds and moves it when the status changes', () => {
    const first = setCondition([], { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }, 't1');
    const same = setCondition(first, { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }, 't2');
    expect(same[0].lastTransitionTime).toBe('t1');
    const flipped = setCondition(same, { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }, 't3');
    expect(flipped[0]).toMatchObject({ status: 'True', lastTransitionTime: 't3', lastUpdateTime: 't3' });
  });
});

describe('deletion order', () => {
  const pod = (name: string, nodeName: string | undefined, phase: string, ready: boolean, created: string): ApiPod => ({
    metadata: { name, namespace: 'default', creationTimestamp: created },
    spec: { nodeName, containers: [] },
    status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: created }] },
  });

  it('removes unscheduled, then pending, then not-ready pods before ready ones, newer first', () => {
    const order = deletionOrder([
      pod('ready-old', 'n1', 'Running', true, '2026-01-01T00:00:00Z'),
      pod('ready-new', 'n2', 'Running', true, '2026-01-02T00:00:00Z'),
      pod('unbound', undefined, 'Pending', false, '2026-01-01T00:00:00Z'),
      pod('pending', 'n3', 'Pending', false, '2026-01-01T00:00:00Z'),
      pod('notready', 'n4', 'Running', false, '2026-01-01T00:00:00Z'),
    ]).map((p) => p.metadata.name);
    expect(order).toEqual(['unbound', 'pending', 'notready', 'ready-new', 'ready-old']);
  });
});
