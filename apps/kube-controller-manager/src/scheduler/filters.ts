import { matchesLabels, selectorFromObject } from '@cerulean/kube';
import { hostPorts, type NodeInfo } from './node-info';
import type { LabelSelector, Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration, TopologySpreadConstraint } from './objects';
import { allocatable, podRequests } from './resources';

/**
 * The scheduler's filters, each named after the upstream plugin whose rule it applies. A filter answers the
 * reasons a node cannot take the pod (empty: it can), worded as upstream words them, because users read them in
 * `kubectl describe pod` and tools match on them.
 */

/** A reason a node was filtered out, and whether evicting lower-priority pods could ever fix it. */
export interface Rejection {
  reason: string;
  /** Upstream's UnschedulableAndUnresolvable: preemption cannot help (labels, taints, node state). */
  unresolvable: boolean;
}

export const Reasons = {
  unschedulable: 'node(s) were unschedulable',
  affinity: "node(s) didn't match Pod's node affinity/selector",
  ports: "node(s) didn't have free ports for the requested pod ports",
  spread: "node(s) didn't match pod topology spread constraints",
  spreadMissingLabel: "node(s) didn't match pod topology spread constraints (missing required label)",
  tooManyPods: 'Too many pods',
  untoleratedTaint: (t: Taint) => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`,
  insufficient: (resource: string) => `Insufficient ${resource}`,
} as const;

export const UNSCHEDULABLE_TAINT_KEY = 'node.kubernetes.io/unschedulable';

/** Whether one toleration covers a taint (upstream's ToleratesTaint). */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (!t.key) return t.operator === 'Exists';
  if (t.key !== taint.key) return false;
  return t.operator === 'Exists' ? true : (t.value ?? '') === (taint.value ?? '');
}

export function untoleratedTaint(pod: Pod, taints: readonly Taint[], effects: readonly string[]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !(pod.spec.tolerations ?? []).some((t) => tolerates(t, taint)));
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  switch (r.operator) {
    case 'In':
      return value !== undefined && (r.values ?? []).includes(value);
    case 'NotIn':
      return value === undefined || !(r.values ?? []).includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || !/^-?\d+$/.test(value) || (r.values ?? []).length !== 1) return false;
      const [bound] = r.values!;
      return r.operator === 'Gt' ? Number(value) > Number(bound) : Number(value) < Number(bound);
    }
    default:
      return false;
  }
}

/** A node selector term: every expression (labels) and field (only `metadata.name`) matches; an empty term matches nothing. */
export function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  return (
    expressions.every((r) => requirementMatches(r, labels[r.key])) &&
    fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, node.metadata.name))
  );
}

/** nodeSelector and required node affinity (terms ORed), upstream's NodeAffinity filter. */
export function matchesNodeAffinity(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of Object.entries(pod.spec.nodeSelector ?? {})) if (labels[key] !== value) return false;
  const required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return !required || required.nodeSelectorTerms.some((term) => termMatches(term, node));
}

/**
 * Selectors as requirements, by selector object: controllers and the scheduler match one owner's selector against
 * every pod of a namespace, and objects from the informers' caches are replaced on change, never edited.
 */
const requirements = new WeakMap<LabelSelector, ReturnType<typeof selectorFromObject>>();

/** A `metav1.LabelSelector` object matches the labels (an absent selector matches nothing). */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> = {}): boolean {
  if (!selector) return false;
  let reqs = requirements.get(selector);
  if (!reqs) requirements.set(selector, (reqs = selectorFromObject(selector)));
  return matchesLabels(reqs, labels);
}

/** The selector a spread constraint counts with: its labelSelector plus the pod's own values of matchLabelKeys. */
export function spreadSelector(pod: Pod, c: TopologySpreadConstraint): LabelSelector {
  const matchLabels = { ...(c.labelSelector?.matchLabels ?? {}) };
  for (const key of c.matchLabelKeys ?? []) {
    const value = pod.metadata.labels?.[key];
    if (value !== undefined) matchLabels[key] = value;
  }
  return { matchLabels, matchExpressions: c.labelSelector?.matchExpressions };
}

/**
 * Per node, the counts of its pods matching a (namespace, selector), kept while the node's pods stay as they were:
 * a scheduling cycle changes one node, so a burst of pods of one owner recounts one node per pod, not all of them.
 */
const matchingCounts = new WeakMap<NodeInfo, { generation: number; counts: Map<string, number> }>();

/** How many of the node's pods in `namespace`, not being deleted, the selector matches. */
function matchingPods(info: NodeInfo, namespace: string | undefined, selector: LabelSelector, key: string): number {
  let memo = matchingCounts.get(info);
  if (!memo || memo.generation !== info.generation) matchingCounts.set(info, (memo = { generation: info.generation, counts: new Map() }));
  let n = memo.counts.get(key);
  if (n === undefined) {
    n = 0;
    for (const other of info.pods.values()) {
      if (other.metadata.namespace === namespace && !other.metadata.deletionTimestamp && selectorMatches(selector, other.metadata.labels)) n++;
    }
    memo.counts.set(key, n);
  }
  return n;
}

/**
 * For one spread constraint, the matching pods per topology domain, counted over the nodes that are eligible
 * for the pod (node affinity honoured and untolerated NoSchedule taints ignored, as the policies default).
 */
export function domainCounts(pod: Pod, c: TopologySpreadConstraint, nodes: readonly NodeInfo[]): Map<string, number> {
  const selector = spreadSelector(pod, c);
  const key = `${pod.metadata.namespace ?? ''}\u0000${JSON.stringify(selector)}`;
  const counts = new Map<string, number>();
  for (const info of nodes) {
    const domain = info.node.metadata.labels?.[c.topologyKey];
    if (domain === undefined) continue;
    if ((c.nodeAffinityPolicy ?? 'Honor') === 'Honor' && !matchesNodeAffinity(pod, info.node)) continue;
    if (c.nodeTaintsPolicy === 'Honor' && untoleratedTaint(pod, info.node.spec?.taints ?? [], ['NoSchedule', 'NoExecute'])) continue;
    counts.set(domain, (counts.get(domain) ?? 0) + matchingPods(info, pod.metadata.namespace, selector, key));
  }
  return counts;
}

/** Every reason `info` cannot take `pod`; `all` is every node (spread constraints compare domains across them). */
export function filterNode(
  pod: Pod,
  info: NodeInfo,
  all: readonly NodeInfo[],
  spreadCounts?: Map<TopologySpreadConstraint, Map<string, number>>,
  volumes?: (node: Node) => Rejection | undefined,
): Rejection[] {
  const node = info.node;
  // NodeUnschedulable: a cordoned node, unless the pod tolerates the unschedulable taint.
  if (node.spec?.unschedulable && !(pod.spec.tolerations ?? []).some((t) => tolerates(t, { key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' }))) {
    return [{ reason: Reasons.unschedulable, unresolvable: true }];
  }
  // NodeAffinity, then TaintToleration: upstream stops at the first plugin that rejects a node.
  if (!matchesNodeAffinity(pod, node)) return [{ reason: Reasons.affinity, unresolvable: true }];
  const taint = untoleratedTaint(pod, node.spec?.taints ?? [], ['NoSchedule', 'NoExecute']);
  if (taint) return [{ reason: Reasons.untoleratedTaint(taint), unresolvable: true }];
  // NodePorts.
  const used = info.usedPorts;
  if (hostPorts(pod).some((p) => used.has(p))) return [{ reason: Reasons.ports, unresolvable: false }];
  // NodeResourcesFit: every insufficient resource is a reason of its own.
  const want = podRequests(pod);
  const have = allocatable(node);
  const fit: Rejection[] = [];
  if (info.requested.pods + 1 > have.pods) fit.push({ reason: Reasons.tooManyPods, unresolvable: false });
  if (want.milliCpu > 0 && info.requested.milliCpu + want.milliCpu > have.milliCpu) fit.push({ reason: Reasons.insufficient('cpu'), unresolvable: false });
  if (want.memory > 0 && info.requested.memory + want.memory > have.memory) fit.push({ reason: Reasons.insufficient('memory'), unresolvable: false });
  if (want.ephemeralStorage > 0 && info.requested.ephemeralStorage + want.ephemeralStorage > have.ephemeralStorage) {
    fit.push({ reason: Reasons.insufficient('ephemeral-storage'), unresolvable: false });
  }
  if (fit.length > 0) return fit;
  // VolumeBinding: the node affinity of the pod's bound volumes (see volume-binding.ts).
  const volume = volumes?.(node);
  if (volume) return [volume];
  // PodTopologySpread (DoNotSchedule constraints).
  for (const c of pod.spec.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable !== 'DoNotSchedule') continue;
    const domain = node.metadata.labels?.[c.topologyKey];
    if (domain === undefined) return [{ reason: Reasons.spreadMissingLabel, unresolvable: true }];
    const counts = spreadCounts?.get(c) ?? domainCounts(pod, c, all);
    const min = Math.min(...counts.values());
    const selfMatch = selectorMatches(spreadSelector(pod, c), pod.metadata.labels) ? 1 : 0;
    if ((counts.get(domain) ?? 0) + selfMatch - min > c.maxSkew) return [{ reason: Reasons.spread, unresolvable: false }];
  }
  return [];
}
