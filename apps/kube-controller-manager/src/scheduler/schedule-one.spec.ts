import { ClusterSnapshot } from './node-info';
import type { Node, Pod } from './objects';
import { fitErrorMessage, scheduleOne } from './schedule-one';

const node = (name: string, extra: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>; spec?: Node['spec'] } = {}): Node => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...extra.labels } },
  spec: extra.spec,
  status: { allocatable: { cpu: extra.cpu ?? '2', memory: extra.memory ?? '4Gi', pods: extra.pods ?? '110' } },
});

let seq = 0;
const pod = (spec: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): Pod => ({
  metadata: { name: `p${++seq}`, namespace: 'default', ...meta },
  spec: { containers: [{ name: 'c' }], ...spec },
});
const requesting = (cpu: string, memory = '1Mi', meta: Partial<Pod['metadata']> = {}) =>
  pod({ containers: [{ name: 'c', resources: { requests: { cpu, memory } } }] }, meta);

const snapshotOf = (nodes: Node[], pods: Pod[] = []) => {
  const s = new ClusterSnapshot();
  nodes.forEach((n) => s.setNode(n));
  pods.forEach((p) => s.setPod(p));
  return s;
};
const bound = (p: Pod, nodeName: string): Pod => ({ ...p, spec: { ...p.spec, nodeName }, status: { phase: 'Running' } });

describe('scheduleOne', () => {
  it("refuses with upstream's message when no node has the cpu", () => {
    const s = snapshotOf([node('a', { cpu: '1' }), node('b', { cpu: '1' }), node('c', { cpu: '1' })]);
    expect(scheduleOne(requesting('2'), s)).toEqual({
      unschedulable: true,
      message: '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    });
  });

  it('counts what bound and assumed pods already request, and frees it when they go', () => {
    const first = requesting('1500m');
    const s = snapshotOf([node('a', { cpu: '2' })], [bound(first, 'a')]);
    expect(scheduleOne(requesting('1'), s)).toMatchObject({ unschedulable: true });
    expect(scheduleOne(requesting('500m'), s)).toEqual({ node: 'a' });
    const second = requesting('500m');
    s.assume(second, 'a');
    expect(scheduleOne(requesting('100m'), s)).toMatchObject({ unschedulable: true });
    s.removePod('default/' + first.metadata.name);
    expect(scheduleOne(requesting('1'), s)).toEqual({ node: 'a' });
  });

  it('spreads a burst of pods that request nothing evenly, even once their default requests fill the nodes memory', () => {
    // 200Mi of default memory a pod: 1500Mi is "full" after 8 pods, long before 100 pods are placed (4 cpus are not).
    const s = snapshotOf(['a', 'b', 'c'].map((n) => node(n, { cpu: '4', memory: '1500Mi' })));
    const counts: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const p = pod();
      const r = scheduleOne(p, s);
      if (!('node' in r)) throw new Error(r.message);
      s.assume(p, r.node);
      counts[r.node] = (counts[r.node] ?? 0) + 1;
    }
    expect(Object.values(counts).sort()).toEqual([33, 33, 34]);
  });

  it('ignores finished pods and honours the pods limit', () => {
    const done = { ...bound(pod(), 'a'), status: { phase: 'Succeeded' } };
    const s = snapshotOf([node('a', { pods: '1' })], [done]);
    expect(scheduleOne(pod(), s)).toEqual({ node: 'a' });
    s.setPod(bound(pod(), 'a'));
    expect(scheduleOne(pod(), s)).toMatchObject({ message: expect.stringContaining('1 Too many pods.') });
  });

  it('applies nodeSelector and required node affinity, and sorts the reasons of mixed refusals', () => {
    const nodes = [
      node('a', { labels: { agentpool: 'sys' } }),
      node('b', { labels: { agentpool: 'user' }, cpu: '1' }),
      node('c', { spec: { unschedulable: true } }),
    ];
    const s = snapshotOf(nodes);
    expect(scheduleOne(pod({ nodeSelector: { agentpool: 'sys' } }), s)).toEqual({ node: 'a' });
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'agentpool', operator: 'In' as const, values: ['user'] }] }],
        },
      },
    };
    expect(scheduleOne(pod({ affinity }), s)).toEqual({ node: 'b' });
    expect(scheduleOne({ ...requesting('2'), spec: { ...requesting('2').spec, affinity } }, s)).toEqual({
      unschedulable: true,
      message:
        "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable. " +
        'preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    });
  });

  it('keeps pods off tainted nodes unless they tolerate the taint', () => {
    const s = snapshotOf([node('a', { spec: { taints: [{ key: 'CriticalAddonsOnly', value: 'true', effect: 'NoSchedule' }] } })]);
    expect(scheduleOne(pod(), s)).toMatchObject({
      message: expect.stringMatching(/^0\/1 nodes are available: 1 node\(s\) had untolerated taint \{CriticalAddonsOnly: true\}\. /),
    });
    expect(scheduleOne(pod({ tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }] }), s)).toEqual({ node: 'a' });
    expect(scheduleOne(pod({ tolerations: [{ operator: 'Exists' }] }), s)).toEqual({ node: 'a' });
    expect(scheduleOne(pod({ tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Equal', value: 'false' }] }), s)).toMatchObject({ unschedulable: true });
  });

  it('lets a cordoned node take only pods tolerating node.kubernetes.io/unschedulable', () => {
    const s = snapshotOf([node('a', { spec: { unschedulable: true } })]);
    expect(scheduleOne(pod(), s)).toMatchObject({ unschedulable: true });
    expect(scheduleOne(pod({ tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }), s)).toEqual({
      node: 'a',
    });
  });

  it('refuses a host port that a pod on the node already holds', () => {
    const withPort = () => pod({ containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080 }] }] });
    const s = snapshotOf([node('a')], [bound(withPort(), 'a')]);
    expect(scheduleOne(withPort(), s)).toMatchObject({ message: expect.stringContaining("1 node(s) didn't have free ports for the requested pod ports") });
  });

  it('spreads by zone under a DoNotSchedule constraint', () => {
    const labels = { app: 'web' };
    const nodes = [node('a', { labels: { 'topology.kubernetes.io/zone': '1' } }), node('b', { labels: { 'topology.kubernetes.io/zone': '2' } }), node('c')];
    const s = snapshotOf(nodes, [bound(pod({}, { labels }), 'a')]);
    const spreadPod = () =>
      pod(
        {
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } },
          ],
        },
        { labels },
      );
    expect(scheduleOne(spreadPod(), s)).toEqual({ node: 'b' });
    s.setPod(bound(pod({}, { labels }), 'b'));
    s.setPod(bound(pod({}, { labels }), 'b'));
    expect(scheduleOne(spreadPod(), s)).toEqual({ node: 'a' });
    const blocked = snapshotOf(nodes, [bound(pod({}, { labels }), 'a')]);
    blocked.setNode(node('b', { labels: { 'topology.kubernetes.io/zone': '2' }, cpu: '0' }));
    expect(scheduleOne({ ...spreadPod(), spec: { ...spreadPod().spec, containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }] } }, blocked)).toEqual(
      {
        unschedulable: true,
        message:
          "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match pod topology spread constraints, 1 node(s) didn't match pod topology spread constraints (missing required label). " +
          'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
      },
    );
  });

  it('recounts a node for spreading once its pods changed: relabelled, marked for deletion or gone', () => {
    const labels = { app: 'web' };
    const spread = () =>
      pod(
        {
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } },
          ],
        },
        { labels },
      );
    const onA = bound(pod({}, { labels }), 'a');
    const s = snapshotOf([node('a'), node('b')], [onA]);
    expect(scheduleOne(spread(), s)).toEqual({ node: 'b' });
    s.setPod({ ...onA, metadata: { ...onA.metadata, labels: { app: 'other' } } });
    s.setPod(bound(pod({}, { labels }), 'b'));
    expect(scheduleOne(spread(), s)).toEqual({ node: 'a' });
    const onB = bound(pod({}, { labels }), 'b');
    s.setPod(onB);
    expect(scheduleOne(spread(), s)).toEqual({ node: 'a' });
    // b: one counted (onB is being deleted); a: two.
    s.setPod({ ...onB, metadata: { ...onB.metadata, deletionTimestamp: '2026-12-05T00:00:00Z' } });
    const moreOnA = [bound(pod({}, { labels }), 'a'), bound(pod({}, { labels }), 'a')];
    moreOnA.forEach((p) => s.setPod(p));
    expect(scheduleOne(spread(), s)).toEqual({ node: 'b' });
    // a: none left; b: one.
    moreOnA.forEach((p) => s.removePod(`default/${p.metadata.name}`));
    expect(scheduleOne(spread(), s)).toEqual({ node: 'a' });
  });

  it("spreads a controller's replicas over nodes by default and prefers the emptier node", () => {
    const owner = { ownerReferences: [{ uid: 'rs1', kind: 'ReplicaSet', name: 'web-1', controller: true }], labels: { app: 'web' } };
    const s = snapshotOf([node('a'), node('b'), node('c')]);
    const placed: string[] = [];
    for (let i = 0; i < 9; i++) {
      const p = pod({}, owner);
      const r = scheduleOne(p, s);
      if (!('node' in r)) throw new Error(r.message);
      s.assume(p, r.node);
      placed.push(r.node);
    }
    expect(['a', 'b', 'c'].map((n) => placed.filter((x) => x === n).length)).toEqual([3, 3, 3]);
    const busy = snapshotOf([node('a'), node('b')], [bound(requesting('1500m'), 'a')]);
    expect(scheduleOne(requesting('100m'), busy)).toEqual({ node: 'b' });
  });

  it('prefers nodes matching preferred affinity and without PreferNoSchedule taints', () => {
    const s = snapshotOf([node('a', { labels: { disk: 'ssd' } }), node('b'), node('c', { spec: { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] } })]);
    const preferred = pod({
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } }],
        },
      },
    });
    expect(scheduleOne(preferred, s)).toEqual({ node: 'a' });
    const counts = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const r = scheduleOne(pod(), s);
      if ('node' in r) counts.set(r.node, (counts.get(r.node) ?? 0) + 1);
    }
    expect(counts.get('c')).toBeUndefined();
  });

  it('says there are no nodes when the cluster has none', () => {
    expect(scheduleOne(pod(), new ClusterSnapshot())).toEqual({ unschedulable: true, message: 'no nodes available to schedule pods' });
    expect(fitErrorMessage(0, new Map())).toBe('no nodes available to schedule pods');
  });
});
