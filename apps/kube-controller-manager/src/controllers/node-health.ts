import { tolerates, UNSCHEDULABLE_TAINT_KEY } from '../scheduler/filters';
import type { Taint, Toleration } from '../scheduler/objects';

/**
 * The node lifecycle controller's pure part: whether a node still reports (its Lease in kube-node-lease or its
 * Ready heartbeat), the conditions of a node that stopped reporting, the NoExecute taint its readiness calls for,
 * and when a pod on a tainted node is due for eviction.
 */

export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
/** Upstream's node-monitor-grace-period. */
export const NODE_MONITOR_GRACE_MS = 40_000;
/** Upstream's node-startup-grace-period: how long a node that never posted a Ready condition is given. */
export const NODE_STARTUP_GRACE_MS = 60_000;

/** The NoSchedule taint each node condition status calls for (upstream's nodeConditionToTaintKeyStatusMap). */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: NOT_READY_TAINT, Unknown: UNREACHABLE_TAINT },
  MemoryPressure: { True: 'node.kubernetes.io/memory-pressure' },
  DiskPressure: { True: 'node.kubernetes.io/disk-pressure' },
  NetworkUnavailable: { True: 'node.kubernetes.io/network-unavailable' },
  PIDPressure: { True: 'node.kubernetes.io/pid-pressure' },
};
/** The NoSchedule taints the controller owns: the conditions' and the cordon's; a user's own are left alone. */
const CONTROLLER_NO_SCHEDULE = new Set([...Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)), UNSCHEDULABLE_TAINT_KEY]);
const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export interface HealthNode {
  metadata: { name: string; creationTimestamp?: string };
  spec?: { taints?: (Taint & { timeAdded?: string })[]; unschedulable?: boolean };
  status?: { conditions?: NodeCondition[] };
}

/** What the node reports, Unknown when it stopped, or NotYet: never posted Ready and still within its startup grace. */
export type Readiness = 'True' | 'False' | 'Unknown' | 'NotYet';

/** The last sign of life: the Lease's renewTime, the Ready heartbeat, or (never heard from) the node's creation. */
export function lastHeartbeat(node: HealthNode, leaseRenewTime: string | undefined): number {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  const times = [leaseRenewTime, ready?.lastHeartbeatTime, node.metadata.creationTimestamp]
    .map((t) => (t ? Date.parse(t) : NaN))
    .filter((t) => !Number.isNaN(t));
  return times.length ? Math.max(...times) : 0;
}

/**
 * When this controller last saw each node's heartbeat move (upstream's probeTimestamp). The grace period counts from
 * that moment, not from the heartbeat's own time: a controller that was away (a control plane down for a minute, a
 * restart) gives every node its grace period again from when it sees it, instead of finding them all overdue at once
 * and tainting nodes whose kubelets are fine.
 */
export class HeartbeatWatch {
  private readonly seen = new Map<string, { heartbeat: number; at: number }>();

  /** The local time the node's heartbeat last changed, as of `now`. */
  observe(name: string, heartbeat: number, now: number): number {
    const last = this.seen.get(name);
    if (last && last.heartbeat === heartbeat) return last.at;
    this.seen.set(name, { heartbeat, at: now });
    return now;
  }

  forget(name: string): void {
    this.seen.delete(name);
  }
}

/**
 * Ready as the node reports it, or Unknown when its heartbeat was last seen to move longer than the grace period ago.
 * A node that never posted a Ready condition is NotYet through the startup grace period, then Unknown.
 */
export function readiness(
  node: HealthNode,
  heartbeatSeenAt: number,
  now: number,
  graceMs = NODE_MONITOR_GRACE_MS,
  startupGraceMs = NODE_STARTUP_GRACE_MS,
): Readiness {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready) return now - heartbeatSeenAt > startupGraceMs ? 'Unknown' : 'NotYet';
  if (now - heartbeatSeenAt > graceMs) return 'Unknown';
  return ready.status === 'True' ? 'True' : ready.status === 'False' ? 'False' : 'Unknown';
}

/**
 * The kubelet's conditions of a node that stopped reporting, all Unknown with upstream's reason and message
 * (added when missing); undefined when they already say so.
 */
export function unknownConditions(node: HealthNode, now: string): NodeCondition[] | undefined {
  const conditions = [...(node.status?.conditions ?? [])];
  let changed = false;
  for (const type of KUBELET_CONDITIONS) {
    const i = conditions.findIndex((c) => c.type === type);
    const old = i >= 0 ? conditions[i] : undefined;
    if (old?.status === 'Unknown') continue;
    const next: NodeCondition = old
      ? { ...old, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: now }
      : {
          type,
          status: 'Unknown',
          reason: 'NodeStatusNeverUpdated',
          message: 'Kubelet never posted node status.',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        };
    if (i >= 0) conditions[i] = next;
    else conditions.push(next);
    changed = true;
  }
  return changed ? conditions : undefined;
}

/**
 * The node's taints with the NoExecute taint its readiness calls for (not-ready for False, unreachable for
 * Unknown, none for True), keeping its timeAdded when already there; undefined when nothing changes.
 */
export function taintsFor(node: HealthNode, ready: Readiness, now: string): (Taint & { timeAdded?: string })[] | undefined {
  const taints = node.spec?.taints ?? [];
  const wanted = ready === 'False' ? NOT_READY_TAINT : ready === 'Unknown' ? UNREACHABLE_TAINT : undefined;
  const ours = (t: Taint) => (t.key === NOT_READY_TAINT || t.key === UNREACHABLE_TAINT) && t.effect === 'NoExecute';
  const current = taints.filter(ours);
  if (current.length === (wanted ? 1 : 0) && (!wanted || current[0].key === wanted)) return undefined;
  const kept = taints.filter((t) => !ours(t));
  return wanted ? [...kept, { key: wanted, effect: 'NoExecute', timeAdded: now }] : kept;
}

/**
 * The node's taints with the NoSchedule taints its conditions and cordon call for (upstream's
 * doNoScheduleTaintingPass): not-ready or unreachable for Ready False or Unknown, memory-, disk- and pid-pressure,
 * network-unavailable, and unschedulable for a cordoned node. Those it no longer calls for go; other taints stay.
 * Undefined when nothing changes.
 */
export function noScheduleTaintsFor(node: HealthNode, now: string): (Taint & { timeAdded?: string })[] | undefined {
  const wanted = new Set<string>();
  for (const c of node.status?.conditions ?? []) {
    const key = CONDITION_TAINTS[c.type]?.[c.status];
    if (key) wanted.add(key);
  }
  if (node.spec?.unschedulable) wanted.add(UNSCHEDULABLE_TAINT_KEY);
  const taints = node.spec?.taints ?? [];
  const ours = (t: Taint) => t.effect === 'NoSchedule' && CONTROLLER_NO_SCHEDULE.has(t.key);
  const have = new Set(taints.filter(ours).map((t) => t.key));
  if (have.size === wanted.size && [...wanted].every((k) => have.has(k))) return undefined;
  const kept = taints.filter((t) => !ours(t) || wanted.has(t.key));
  const added = [...wanted].filter((k) => !have.has(k)).map((key) => ({ key, effect: 'NoSchedule' as const, timeAdded: now }));
  return [...kept, ...added];
}

/**
 * When a pod on a node with these taints is to be evicted (upstream's taint manager): at once if a NoExecute taint
 * is not tolerated, else when the shortest tolerationSeconds of the matching tolerations runs out from the taint's
 * timeAdded; undefined when it tolerates them for ever (or there are none).
 */
export function evictionTime(tolerations: Toleration[] | undefined, taints: (Taint & { timeAdded?: string })[], now: number): number | undefined {
  let at: number | undefined;
  for (const taint of taints.filter((t) => t.effect === 'NoExecute')) {
    const matching = (tolerations ?? []).filter((t) => tolerates(t, taint));
    if (matching.length === 0) return now;
    const seconds = matching.map((t) => t.tolerationSeconds).filter((s): s is number => typeof s === 'number');
    if (seconds.length === 0) continue;
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : now;
    const due = added + Math.max(0, Math.min(...seconds)) * 1000;
    at = at === undefined ? due : Math.min(at, due);
  }
  return at;
}
