import { evictionTime, HeartbeatWatch, lastHeartbeat, readiness, taintsFor, unknownConditions, type HealthNode } from './node-health';

const T0 = Date.parse('2026-12-02T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const node = (ready: string, heartbeat: number, taints: HealthNode['spec'] = {}): HealthNode => ({
  metadata: { name: 'n1', creationTimestamp: iso(T0 - 3_600_000) },
  spec: taints,
  status: { conditions: [{ type: 'Ready', status: ready, lastHeartbeatTime: iso(heartbeat), lastTransitionTime: iso(T0 - 3_600_000) }] },
});

describe('node health', () => {
  it('takes the newest of the lease renewal and the Ready heartbeat', () => {
    expect(lastHeartbeat(node('True', T0 - 60_000), iso(T0 - 5_000))).toBe(T0 - 5_000);
    expect(lastHeartbeat(node('True', T0 - 1_000), iso(T0 - 5_000))).toBe(T0 - 1_000);
  });

  it('is Unknown once the heartbeat was last seen to move 40 s ago, else what the node reports', () => {
    expect(readiness(node('True', T0 - 60_000), T0 - 39_000, T0)).toBe('True');
    expect(readiness(node('True', T0 - 60_000), T0 - 41_000, T0)).toBe('Unknown');
    expect(readiness(node('False', T0), T0, T0)).toBe('False');
    expect(readiness({ metadata: { name: 'n' } }, T0, T0)).toBe('Unknown');
  });

  it('counts the grace period from when the controller saw the heartbeat move, not from its timestamp', () => {
    const watch = new HeartbeatWatch();
    // First seen after a long absence: an old heartbeat still gets its grace period from now, as upstream's probeTimestamp.
    const old = T0 - 120_000;
    expect(watch.observe('n', old, T0)).toBe(T0);
    expect(readiness(node('True', old), watch.observe('n', old, T0 + 39_000), T0 + 39_000)).toBe('True');
    expect(readiness(node('True', old), watch.observe('n', old, T0 + 41_000), T0 + 41_000)).toBe('Unknown');
    // A renewal moves it; forgetting a node starts over.
    expect(watch.observe('n', old + 10_000, T0 + 50_000)).toBe(T0 + 50_000);
    expect(watch.observe('n', old + 10_000, T0 + 60_000)).toBe(T0 + 50_000);
    watch.forget('n');
    expect(watch.observe('n', old + 10_000, T0 + 70_000)).toBe(T0 + 70_000);
  });

  it('sets the kubelet conditions Unknown with upstream reasons, once', () => {
    const conds = unknownConditions(node('True', T0 - 60_000), iso(T0))!;
    expect(conds.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      lastTransitionTime: iso(T0),
      lastHeartbeatTime: iso(T0 - 60_000),
    });
    expect(conds.find((c) => c.type === 'MemoryPressure')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusNeverUpdated' });
    expect(conds.map((c) => c.type)).toEqual(['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']);
    expect(unknownConditions({ ...node('True', 0), status: { conditions: conds } }, iso(T0 + 5_000))).toBeUndefined();
  });

  it('taints by readiness, keeps other taints and the time a taint was added', () => {
    const other = { key: 'dedicated', value: 'x', effect: 'NoSchedule' as const };
    const unreachable = taintsFor(node('True', 0, { taints: [other] }), 'Unknown', iso(T0))!;
    expect(unreachable).toEqual([other, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: iso(T0) }]);
    expect(taintsFor(node('True', 0, { taints: unreachable }), 'Unknown', iso(T0 + 5_000))).toBeUndefined();
    expect(taintsFor(node('True', 0, { taints: unreachable }), 'False', iso(T0))).toEqual([
      other,
      { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: iso(T0) },
    ]);
    expect(taintsFor(node('True', 0, { taints: unreachable }), 'True', iso(T0))).toEqual([other]);
    expect(taintsFor(node('True', 0, { taints: [other] }), 'True', iso(T0))).toBeUndefined();
  });

  it('evicts at once without a toleration, after the shortest tolerationSeconds, never with an unbounded one', () => {
    const taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' as const, timeAdded: iso(T0) };
    expect(evictionTime([], [taint], T0 + 1)).toBe(T0 + 1);
    expect(
      evictionTime(
        [
          { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
          { operator: 'Exists', tolerationSeconds: 60 },
        ],
        [taint],
        T0 + 1,
      ),
    ).toBe(T0 + 60_000);
    expect(evictionTime([{ operator: 'Exists' }], [taint], T0)).toBeUndefined();
    expect(evictionTime([], [{ key: 'x', effect: 'NoSchedule' }], T0)).toBeUndefined();
  });
});
