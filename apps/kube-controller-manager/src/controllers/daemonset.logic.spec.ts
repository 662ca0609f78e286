import type { Node } from '../scheduler/objects';
import { daemonPod, nodeOfDaemonPod, nodeShouldRun, rollingBudget, withDaemonTolerations, type DaemonSet } from './daemonset.logic';

const ds = (podSpec: Record<string, unknown> = {}, strategy?: DaemonSet['spec']['updateStrategy']): DaemonSet => ({
  metadata: { name: 'agent', namespace: 'kube-system', uid: 'u1', generation: 3 },
  spec: {
    selector: { matchLabels: { app: 'agent' } },
    template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c' }], ...podSpec } },
    updateStrategy: strategy,
  },
});
const node = (
  name: string,
  labels: Record<string, string> = {},
  taints: Node['spec'] extends infer S ? (S extends { taints?: infer T } ? T : never) : never = [],
): Node => ({
  metadata: { name, labels },
  spec: { taints },
});

describe('daemonset rules', () => {
  it('adds the daemon tolerations, network-unavailable only for hostNetwork', () => {
    const keys = (spec: Record<string, unknown>) => withDaemonTolerations({ containers: [], ...spec }).map((t) => t.key);
    expect(keys({})).toEqual([
      'node.kubernetes.io/not-ready',
      'node.kubernetes.io/unreachable',
      'node.kubernetes.io/disk-pressure',
      'node.kubernetes.io/memory-pressure',
      'node.kubernetes.io/pid-pressure',
      'node.kubernetes.io/unschedulable',
    ]);
    expect(keys({ hostNetwork: true })).toContain('node.kubernetes.io/network-unavailable');
    // A template toleration of the same key and effect is replaced, not doubled.
    const merged = withDaemonTolerations({
      containers: [],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }],
    });
    expect(merged.filter((t) => t.key === 'node.kubernetes.io/not-ready')).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    ]);
  });

  it('decides which nodes run the pod: selector, NoSchedule keeps running pods, NoExecute evicts', () => {
    expect(nodeShouldRun(ds({ nodeSelector: { disk: 'ssd' } }), node('a'))).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(nodeShouldRun(ds({ nodeSelector: { disk: 'ssd' } }), node('a', { disk: 'ssd' }))).toEqual({ shouldRun: true, shouldContinueRunning: true });
    expect(nodeShouldRun(ds(), node('a', {}, [{ key: 'gpu', effect: 'NoSchedule' }]))).toEqual({ shouldRun: false, shouldContinueRunning: true });
    expect(nodeShouldRun(ds(), node('a', {}, [{ key: 'gpu', effect: 'NoExecute' }]))).toEqual({ shouldRun: false, shouldContinueRunning: false });
    // Cordoned or not-ready nodes still run daemons (the automatic tolerations).
    expect(nodeShouldRun(ds(), node('a', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }])).shouldRun).toBe(true);
    expect(nodeShouldRun(ds(), node('a', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }])).shouldRun).toBe(true);
  });

  it('pins the pod to its node by required affinity on metadata.name', () => {
    const p = daemonPod(ds({ affinity: { podAntiAffinity: { x: 1 } } }), 'node-7', 'abc') as {
      metadata: { labels: Record<string, string> };
      spec: { affinity: Record<string, unknown>; nodeName?: string };
    };
    expect(p.metadata.labels).toEqual({ app: 'agent', 'controller-revision-hash': 'abc', 'pod-template-generation': '3' });
    expect(p.spec.affinity).toEqual({
      podAntiAffinity: { x: 1 },
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-7'] }] }],
        },
      },
    });
    expect(p.spec.nodeName).toBeUndefined();
    expect(nodeOfDaemonPod(p as never)).toBe('node-7');
  });

  it('resolves the rolling budget against the desired count', () => {
    expect(rollingBudget(ds(), 10)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(rollingBudget(ds({}, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%' } }), 10)).toEqual({ maxSurge: 0, maxUnavailable: 3 });
    expect(rollingBudget(ds({}, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '10%' } }), 10)).toEqual({
      maxSurge: 1,
      maxUnavailable: 0,
    });
  });
});
