import { domainCounts, filterNode, type Rejection } from './filters';
import type { ClusterSnapshot, NodeInfo } from './node-info';
import type { Node, Pod, TopologySpreadConstraint } from './objects';
import { scoreNodes } from './scoring';

export type ScheduleResult = { node: string } | { unschedulable: true; message: string };

/**
 * Upstream's FitError text: `0/N nodes are available: <count reason, ...>.`, the reasons sorted, then what
 * preemption found. Cerulean does not preempt (every pod has the default priority), so it says what upstream's
 * DefaultPreemption says then: nothing to evict for resource reasons, not helpful for the others.
 */
export function fitErrorMessage(total: number, rejections: ReadonlyMap<string, Rejection[]>): string {
  if (total === 0) return 'no nodes available to schedule pods';
  const histogram = new Map<string, number>();
  let resolvableNodes = 0;
  for (const reasons of rejections.values()) {
    for (const r of reasons) histogram.set(r.reason, (histogram.get(r.reason) ?? 0) + 1);
    if (reasons.every((r) => !r.unresolvable)) resolvableNodes++;
  }
  const parts = [...histogram].map(([reason, n]) => `${n} ${reason}`).sort();
  const unresolvable = total - resolvableNodes;
  const preemption = [
    ...(unresolvable > 0 ? [`${unresolvable} Preemption is not helpful for scheduling`] : []),
    ...(resolvableNodes > 0 ? [`${resolvableNodes} No preemption victims found for incoming pod`] : []),
  ].sort();
  return `0/${total} nodes are available: ${parts.join(', ')}. preemption: 0/${total} nodes are available: ${preemption.join(', ')}.`;
}

/**
 * Upstream's FitError text when a PreFilter plugin turned the pod down (a missing claim, say): its message stands for
 * every node, and preemption cannot help.
 */
export function preFilterErrorMessage(total: number, message: string): string {
  if (total === 0) return 'no nodes available to schedule pods';
  return `0/${total} nodes are available: ${message}. preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.`;
}

/**
 * One scheduling cycle for one pod: filter every node, score the feasible ones, pick the best (ties broken at
 * random, as upstream does, so equal nodes share the load). `volumes` is the VolumeBinding filter of the pod's claims.
 */
export function scheduleOne(
  pod: Pod,
  snapshot: ClusterSnapshot,
  random: () => number = Math.random,
  volumes?: (node: Node) => Rejection | undefined,
): ScheduleResult {
  const all = snapshot.list();
  // Domain counts of hard spread constraints are the same for every node: count once per cycle.
  const spreadCounts = new Map<TopologySpreadConstraint, Map<string, number>>();
  for (const c of pod.spec.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable === 'DoNotSchedule') spreadCounts.set(c, domainCounts(pod, c, all));
  }
  const feasible: NodeInfo[] = [];
  const rejections = new Map<string, Rejection[]>();
  for (const info of all) {
    const reasons = filterNode(pod, info, all, spreadCounts, volumes);
    if (reasons.length === 0) feasible.push(info);
    else rejections.set(info.node.metadata.name, reasons);
  }
  if (feasible.length === 0) return { unschedulable: true, message: fitErrorMessage(all.length, rejections) };
  if (feasible.length === 1) return { node: feasible[0].node.metadata.name };
  const scores = scoreNodes(pod, feasible, all);
  let best = -Infinity;
  let chosen = feasible[0];
  let ties = 0;
  scores.forEach((score, i) => {
    if (score > best + 1e-9) {
      best = score;
      chosen = feasible[i];
      ties = 1;
    } else if (Math.abs(score - best) <= 1e-9) {
      // Reservoir sampling over the nodes sharing the best score.
      ties++;
      if (random() * ties < 1) chosen = feasible[i];
    }
  });
  return { node: chosen.node.metadata.name };
}
