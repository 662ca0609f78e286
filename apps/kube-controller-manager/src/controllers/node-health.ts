import { tolerates } from '../scheduler/filters';
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
  spec?: { taints?: (Taint & { timeAdded?: string })[] };
  status?: { conditions?: NodeCondition[] };
}

export type Readiness = 'True' | 'False' | 'Unknown';

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

/** Ready as the node reports it, or Unknown when its heartbeat was last seen to move longer than the grace period ago. */
export function readiness(node: HealthNode, heartbeatSeenAt: number, now: number, graceMs = NODE_MONITOR_GRACE_MS): Readiness {
  if (now - heartbeatSeenAt > graceMs) return 'Unknown';
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready) return 'Unknown';
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
