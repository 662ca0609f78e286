import { domainCounts, termMatches, untoleratedTaint } from './filters';
import type { NodeInfo } from './node-info';
import type { Pod, TopologySpreadConstraint } from './objects';
import { allocatable, podRequests } from './resources';

/**
 * Scores of the nodes that passed the filters, each plugin's on 0–100 and weighted as upstream's default
 * profile weighs them (NodeResourcesFit 1, BalancedAllocation 1, TaintToleration 3, NodeAffinity 2,
 * PodTopologySpread 2).
 */
const MAX = 100;

/** LeastAllocated: the share of cpu and memory still free after the pod, averaged. */
function leastAllocated(pod: Pod, info: NodeInfo): number {
  const want = podRequests(pod, { nonZero: true });
  const have = allocatable(info.node);
  const free = (capacity: number, used: number) => (capacity <= 0 ? 0 : Math.max(0, ((capacity - used) * MAX) / capacity));
  return (free(have.milliCpu, info.nonZeroRequested.milliCpu + want.milliCpu) + free(have.memory, info.nonZeroRequested.memory + want.memory)) / 2;
}

/**
 * BalancedAllocation: cpu and memory used in the same proportion score high. From what pods actually request, as
 * upstream's (useRequested): pods that request nothing change no node's balance. Counted with LeastAllocated's
 * non-zero defaults instead, a node whose memory those defaults fill would look better balanced with every pod it
 * gets, and draw ever more of a burst of such pods.
 */
function balanced(pod: Pod, info: NodeInfo): number {
  const want = podRequests(pod);
  const have = allocatable(info.node);
  if (have.milliCpu <= 0 || have.memory <= 0) return 0;
  const cpu = Math.min(1, (info.requested.milliCpu + want.milliCpu) / have.milliCpu);
  const mem = Math.min(1, (info.requested.memory + want.memory) / have.memory);
  return (1 - Math.abs(cpu - mem) / 2) * MAX;
}

/** Normalizes raw scores so the best is 100 (or, with `reverse`, the lowest raw value is best). */
function normalize(raw: number[], reverse: boolean): number[] {
  const top = Math.max(0, ...raw);
  if (top === 0) return raw.map(() => (reverse ? MAX : 0));
  return raw.map((v) => (reverse ? MAX - (v * MAX) / top : (v * MAX) / top));
}

/**
 * The constraints the pod is spread by when scoring: its ScheduleAnyway constraints, or, for a pod with none at
 * all that a controller owns, upstream's system defaults (hostname skew 3, zone skew 5) over its owner's pods.
 */
function softSpread(pod: Pod): TopologySpreadConstraint[] {
  const declared = pod.spec.topologySpreadConstraints ?? [];
  if (declared.length > 0) return declared.filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway');
  const labels = pod.metadata.labels ?? {};
  if (!pod.metadata.ownerReferences?.some((o) => o.controller) || Object.keys(labels).length === 0) return [];
  return [
    { maxSkew: 3, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
    { maxSkew: 5, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
  ];
}

/** The weighted total score of each feasible node, in the order given. */
export function scoreNodes(pod: Pod, feasible: readonly NodeInfo[], all: readonly NodeInfo[]): number[] {
  const fit = feasible.map((n) => leastAllocated(pod, n));
  const balance = feasible.map((n) => balanced(pod, n));
  const preferNoSchedule = normalize(
    feasible.map((n) => (n.node.spec?.taints ?? []).filter((t) => t.effect === 'PreferNoSchedule' && untoleratedTaint(pod, [t], ['PreferNoSchedule'])).length),
    true,
  );
  const preferred = pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const affinity = normalize(
    feasible.map((n) => preferred.reduce((sum, p) => sum + (termMatches(p.preference, n.node) ? p.weight : 0), 0)),
    false,
  );
  const spread = softSpread(pod);
  let spreadScore = feasible.map(() => MAX);
  if (spread.length > 0) {
    const raw = feasible.map(() => 0);
    for (const c of spread) {
      const counts = domainCounts(pod, c, all);
      feasible.forEach((n, i) => {
        const domain = n.node.metadata.labels?.[c.topologyKey];
        // Fewer matching pods in the node's domain is better; weighted by how loose the constraint is.
        if (domain !== undefined) raw[i] += (counts.get(domain) ?? 0) + c.maxSkew - 1;
      });
    }
    spreadScore = normalize(raw, true);
  }
  return feasible.map((_, i) => fit[i] + balance[i] + 3 * preferNoSchedule[i] + 2 * affinity[i] + 2 * spreadScore[i]);
}
