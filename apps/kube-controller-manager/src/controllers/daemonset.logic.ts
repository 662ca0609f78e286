import { matchesNodeAffinity, tolerates } from '../scheduler/filters';
import type { LabelSelector, Node, Pod, Taint, Toleration } from '../scheduler/objects';
import { scaledValue, type IntOrPercent, type PodTemplate } from './deployment.logic';
import type { WorkloadMetadata } from './pods';
import type { KubeObject } from '../client/kube-client';

/** The pure rules of upstream's DaemonSet controller: which nodes run a daemon pod, and what that pod looks like. */

export const TEMPLATE_GENERATION = 'pod-template-generation';

export interface DaemonSet extends KubeObject {
  metadata: WorkloadMetadata;
  spec: {
    selector: LabelSelector;
    template: PodTemplate;
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete'; rollingUpdate?: { maxUnavailable?: IntOrPercent; maxSurge?: IntOrPercent } };
  };
  status?: DaemonSetStatus;
}

export interface DaemonSetStatus {
  currentNumberScheduled: number;
  numberMisscheduled: number;
  desiredNumberScheduled: number;
  numberReady: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  numberUnavailable?: number;
  observedGeneration?: number;
  collisionCount?: number;
}

type DaemonPodSpec = Pod['spec'] & { hostNetwork?: boolean };

/** The tolerations upstream adds to every daemon pod so node conditions never evict or keep it out. */
export function daemonTolerations(spec: DaemonPodSpec): Toleration[] {
  const out: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec.hostNetwork) out.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return out;
}

/** The template's tolerations with the daemon ones added or replaced (same key and effect), upstream's AddOrUpdateTolerationInPodSpec. */
export function withDaemonTolerations(spec: DaemonPodSpec): Toleration[] {
  const own = [...(spec.tolerations ?? [])];
  for (const t of daemonTolerations(spec)) {
    const at = own.findIndex((o) => o.key === t.key && o.effect === t.effect);
    if (at >= 0) own[at] = t;
    else own.push(t);
  }
  return own;
}

/**
 * Whether the DaemonSet should run a pod on the node, and whether a pod already there may stay (upstream's
 * NodeShouldRunDaemonPod): node affinity and nodeSelector must match; an untolerated NoSchedule taint keeps new
 * pods off but lets a running one stay; an untolerated NoExecute taint does neither.
 */
export function nodeShouldRun(ds: DaemonSet, node: Node): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const pod: Pod = { metadata: { name: '', labels: ds.spec.template.metadata?.labels }, spec: { ...ds.spec.template.spec, nodeName: node.metadata.name } };
  if (!matchesNodeAffinity(pod, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = withDaemonTolerations(ds.spec.template.spec);
  const untolerated = (taint: Taint) => !tolerations.some((t) => tolerates(t, taint));
  const taints = node.spec?.taints ?? [];
  if (taints.some((t) => t.effect === 'NoExecute' && untolerated(t))) return { shouldRun: false, shouldContinueRunning: false };
  if (taints.some((t) => t.effect === 'NoSchedule' && untolerated(t))) return { shouldRun: false, shouldContinueRunning: true };
  return { shouldRun: true, shouldContinueRunning: true };
}

/**
 * A daemon pod for one node: the template with the revision labels, the daemon tolerations, and required node
 * affinity replaced by `metadata.name In [node]` so the default scheduler places it there (upstream's
 * ReplaceDaemonSetPodNodeNameNodeAffinity).
 */
export function daemonPod(ds: DaemonSet, nodeName: string, hash: string): Record<string, unknown> {
  const spec = structuredClone(ds.spec.template.spec) as DaemonPodSpec & { affinity?: Record<string, unknown> };
  spec.tolerations = withDaemonTolerations(spec);
  const affinity = spec.affinity ?? {};
  const nodeAffinity = (affinity.nodeAffinity as Record<string, unknown> | undefined) ?? {};
  spec.affinity = {
    ...affinity,
    nodeAffinity: {
      ...nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] },
    },
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${ds.metadata.name}-`,
      namespace: ds.metadata.namespace,
      labels: { ...(ds.spec.template.metadata?.labels ?? {}), 'controller-revision-hash': hash, [TEMPLATE_GENERATION]: String(ds.metadata.generation ?? 1) },
      ...(ds.spec.template.metadata?.annotations ? { annotations: { ...ds.spec.template.metadata.annotations } } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata.name, uid: ds.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}

/** The node a daemon pod is for: its binding, else the node its required affinity names. */
export function nodeOfDaemonPod(pod: Pod): string | undefined {
  if (pod.spec.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    const field = term.matchFields?.find((f) => f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1);
    if (field) return field.values![0];
  }
  return undefined;
}

/** maxSurge and maxUnavailable of a rolling update against the desired number (both rounded up; both 0 means 1 unavailable). */
export function rollingBudget(ds: DaemonSet, desired: number): { maxSurge: number; maxUnavailable: number } {
  const ru = ds.spec.updateStrategy?.rollingUpdate;
  const maxSurge = scaledValue(ru?.maxSurge, desired, true, 0);
  let maxUnavailable = scaledValue(ru?.maxUnavailable, desired, true, 1);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}
