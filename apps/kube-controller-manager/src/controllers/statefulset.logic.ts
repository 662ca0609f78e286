import type { KubeObject } from '../client/kube-client';
import type { LabelSelector } from '../scheduler/objects';
import type { IntOrPercent, PodTemplate } from './deployment.logic';
import { isAvailable, isReady, type ApiPod, type WorkloadMetadata } from './pods';
import { REVISION_HASH } from './revisions';

/** The pure rules of upstream's StatefulSet controller: stable identities, ordering, rolling updates, status. */

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export interface StatefulSet extends KubeObject {
  metadata: WorkloadMetadata;
  spec: {
    replicas?: number;
    selector: LabelSelector;
    template: PodTemplate;
    serviceName?: string;
    podManagementPolicy?: 'OrderedReady' | 'Parallel';
    ordinals?: { start?: number };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete'; rollingUpdate?: { partition?: number; maxUnavailable?: IntOrPercent } };
    volumeClaimTemplates?: unknown[];
  };
  status?: StatefulSetStatus;
}

export interface StatefulSetStatus {
  replicas: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  observedGeneration?: number;
  collisionCount?: number;
}

/** The ordinal in a pod's name `<set>-<ordinal>`, or undefined for a pod not named as this set's. */
export function ordinalOf(setName: string, pod: ApiPod): number | undefined {
  const prefix = `${setName}-`;
  const name = pod.metadata.name;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}

export const startOrdinal = (sts: StatefulSet) => sts.spec.ordinals?.start ?? 0;
export const revisionOfPod = (pod: ApiPod) => pod.metadata.labels?.[REVISION_HASH] ?? '';
const isTerminating = (pod: ApiPod) => !!pod.metadata.deletionTimestamp;
const isFinishedPod = (pod: ApiPod) => pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
/** Running, Ready and not on its way out: the health OrderedReady waits for. */
export const isHealthy = (pod: ApiPod) => pod.status?.phase === 'Running' && isReady(pod) && !isTerminating(pod);

export interface StatefulSetPlan {
  create: { ordinal: number; revision: 'current' | 'update' }[];
  delete: ApiPod[];
}

/**
 * One pass of upstream's updateStatefulSet over the pods of the set: replace failed pods and create missing ones
 * in ordinal order, remove pods past the replica count from the highest ordinal down, then roll pods at or above
 * the partition to the update revision from the highest down. OrderedReady does one step at a time and waits for
 * every earlier pod to be Running and Ready; Parallel does all of the first two at once.
 */
export function planStatefulSet(sts: StatefulSet, pods: readonly ApiPod[], updateRevision: string): StatefulSetPlan {
  const plan: StatefulSetPlan = { create: [], delete: [] };
  const start = startOrdinal(sts);
  const replicas = sts.spec.replicas ?? 1;
  const ordered = (sts.spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
  const rolling = (sts.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const partition = rolling ? (sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
  const slots: (ApiPod | undefined)[] = Array.from({ length: replicas }, () => undefined);
  const condemned: ApiPod[] = [];
  for (const pod of pods) {
    const ordinal = ordinalOf(sts.metadata.name, pod);
    if (ordinal === undefined) continue;
    if (ordinal >= start && ordinal < start + replicas) slots[ordinal - start] = pod;
    else condemned.push(pod);
  }
  condemned.sort((a, b) => ordinalOf(sts.metadata.name, b)! - ordinalOf(sts.metadata.name, a)!);
  // A new pod below the partition keeps the current revision; the rest get the update revision.
  const revisionFor = (index: number): 'current' | 'update' => (rolling && index < partition ? 'current' : 'update');

  for (let i = 0; i < replicas; i++) {
    const pod = slots[i];
    if (!pod) {
      plan.create.push({ ordinal: start + i, revision: revisionFor(i) });
      if (ordered) return plan;
      continue;
    }
    if (isFinishedPod(pod) && !isTerminating(pod)) {
      plan.delete.push(pod);
      if (ordered) return plan;
      continue;
    }
    if (ordered && !isHealthy(pod)) return plan;
  }
  const unhealthy = [...slots, ...condemned].filter((p): p is ApiPod => !!p && !isHealthy(p));
  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (ordered) return plan;
      continue;
    }
    // OrderedReady removes one pod at a time, and only while every other pod is healthy.
    if (ordered && unhealthy.some((p) => p !== pod)) return plan;
    plan.delete.push(pod);
    if (ordered) return plan;
  }
  if (!ordered && (plan.create.length > 0 || plan.delete.length > 0)) return plan;
  if (!rolling) return plan;
  for (let i = replicas - 1; i >= partition; i--) {
    const pod = slots[i];
    if (!pod) return plan;
    if (revisionOfPod(pod) !== updateRevision && !isTerminating(pod)) {
      plan.delete.push(pod);
      return plan;
    }
    if (!isHealthy(pod)) return plan;
  }
  return plan;
}

/** Upstream's status of a set: counts over its pods, then the rollout completed when every pod is updated and ready. */
export function statefulSetStatus(sts: StatefulSet, pods: readonly ApiPod[], currentRevision: string, updateRevision: string, now: Date): StatefulSetStatus {
  let replicas = 0;
  let ready = 0;
  let available = 0;
  let current = 0;
  let updated = 0;
  for (const pod of pods) {
    if (ordinalOf(sts.metadata.name, pod) === undefined) continue;
    const created = !!pod.status?.phase;
    if (created) replicas++;
    if (pod.status?.phase === 'Running' && isReady(pod)) {
      ready++;
      if (isAvailable(pod, sts.spec.minReadySeconds ?? 0, now)) available++;
    }
    if (created && !isTerminating(pod)) {
      if (revisionOfPod(pod) === currentRevision) current++;
      if (revisionOfPod(pod) === updateRevision) updated++;
    }
  }
  const status: StatefulSetStatus = {
    replicas,
    readyReplicas: ready,
    currentReplicas: current,
    updatedReplicas: updated,
    availableReplicas: available,
    currentRevision,
    updateRevision,
    observedGeneration: sts.metadata.generation,
    ...(sts.status?.collisionCount ? { collisionCount: sts.status.collisionCount } : {}),
  };
  if ((sts.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && updated === replicas && ready === replicas) {
    status.currentReplicas = updated;
    status.currentRevision = updateRevision;
  }
  return status;
}

/** The pod of one ordinal: the template of the chosen revision with the set's identity on it. */
export function statefulPod(sts: StatefulSet, template: PodTemplate, ordinal: number, revisionName: string): Record<string, unknown> {
  const name = `${sts.metadata.name}-${ordinal}`;
  const spec = structuredClone(template.spec) as PodTemplate['spec'] & { hostname?: string; subdomain?: string };
  spec.hostname = name;
  if (sts.spec.serviceName) spec.subdomain = sts.spec.serviceName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: sts.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), [REVISION_HASH]: revisionName, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts.metadata.name, uid: sts.metadata.uid, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec,
  };
}
