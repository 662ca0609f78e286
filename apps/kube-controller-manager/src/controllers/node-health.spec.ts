import { evictionTime, HeartbeatWatch, lastHeartbeat, noScheduleTaintsFor, readiness, taintsFor, unknownConditions, type HealthNode } from './node-health';

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
    // Never posted Ready: given the startup grace period (60 s), then Unknown.
    expect(readiness({ metadata: { name: 'n' } }, T0 - 59_000, T0)).toBe('NotYet');
    expect(readiness({ metadata: { name: 'n' } }, T0 - 61_000, T0)).toBe('Unknown');
  });

  it('keeps the NoSchedule taints the conditions and the cordon call for, and leaves a user own taints alone', () => {
    const userTaint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' as const };
    const noExecute = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' as const, timeAdded: iso(T0 - 1_000) };
    const withConditions = (conditions: { type: string; status: string }[], spec: HealthNode['spec'] = {}): HealthNode => ({
      metadata: { name: 'n1' },
      spec,
      status: { conditions },
    });
    // The API server's not-ready taint goes once the node is Ready.
    const fresh = withConditions([{ type: 'Ready', status: 'True' }], { taints: [userTaint, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] });
    expect(noScheduleTaintsFor(fresh, iso(T0))).toEqual([userTaint]);
    // Unknown: unreachable; with pressure conditions, cordoned and network down, each its taint, stamped when added.
    const sick = withConditions(
      [
        { type: 'Ready', status: 'Unknown' },
        { type: 'MemoryPressure', status: 'True' },
        { type: 'DiskPressure', status: 'False' },
        { type: 'PIDPressure', status: 'True' },
        { type: 'NetworkUnavailable', status: 'True' },
      ],
      { unschedulable: true, taints: [userTaint, noExecute] },
    );
    expect(noScheduleTaintsFor(sick, iso(T0))).toEqual([
      userTaint,
      noExecute,
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: iso(T0) },
      { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule', timeAdded: iso(T0) },
      { key: 'node.kubernetes.io/pid-pressure', effect: 'NoSchedule', timeAdded: iso(T0) },
      { key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule', timeAdded: iso(T0) },
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: iso(T0) },
    ]);
    // Already as called for: no change. Ready=False swaps unreachable for not-ready and keeps the rest with their time.
    const tainted = { ...sick, spec: { ...sick.spec, taints: noScheduleTaintsFor(sick, iso(T0)) } };
    expect(noScheduleTaintsFor(tainted, iso(T0 + 5_000))).toBeUndefined();
    const notReady = { ...tainted, status: { conditions: [{ type: 'Ready', status: 'False' }] }, spec: { ...tainted.spec, unschedulable: false } };
    expect(noScheduleTaintsFor(notReady, iso(T0 + 5_000))).toEqual([
      userTaint,
      noExecute,
      { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule', timeAdded: iso(T0 + 5_000) },
    ]);
    // A NoExecute taint of the same key is not the NoSchedule one.
    expect(noScheduleTaintsFor(withConditions([{ type: 'Ready', status: 'True' }], { taints: [noExecute] }), iso(T0))).toBeUndefined();
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
