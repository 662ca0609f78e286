import type { OwnerReference } from '@cerulean/kube';
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
    volumeClaimTemplates?: ClaimTemplate[];
    persistentVolumeClaimRetentionPolicy?: { whenDeleted?: RetentionPolicy; whenScaled?: RetentionPolicy };
  };
  status?: StatefulSetStatus;
}

export type RetentionPolicy = 'Retain' | 'Delete';

/** A volumeClaimTemplates entry: a PersistentVolumeClaim without namespace, made once per ordinal. */
export interface ClaimTemplate {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** A claim as the controller reads one back: enough to see its owners and whether it is on its way out. */
export interface StatefulClaim extends KubeObject {
  metadata: KubeObject['metadata'] & { namespace: string; uid: string; deletionTimestamp?: string; ownerReferences?: OwnerReference[] };
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
  const spec = structuredClone(template.spec) as PodTemplate['spec'] & { hostname?: string; subdomain?: string; volumes?: { name: string }[] };
  // Upstream's updateStorage: a volume per claim template, replacing a template volume of that name.
  const templates = sts.spec.volumeClaimTemplates ?? [];
  if (templates.length) {
    const claimed = templates.map((t) => ({ name: t.metadata.name, persistentVolumeClaim: { claimName: claimName(sts, t, ordinal) } }));
    spec.volumes = [...claimed, ...(spec.volumes ?? []).filter((v) => !templates.some((t) => t.metadata.name === v.name))];
  }
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

/** `<template>-<set>-<ordinal>`: the claim of one template for one ordinal (upstream's getPersistentVolumeClaimName). */
export function claimName(sts: StatefulSet, template: ClaimTemplate, ordinal: number): string {
  return `${template.metadata.name}-${sts.metadata.name}-${ordinal}`;
}

/** The pod an ordinal's claims belong to, as the owner references the retention policy gives them name it. */
export interface ClaimPodRef {
  name: string;
  uid: string;
}

const policyOf = (sts: StatefulSet) => ({
  whenDeleted: sts.spec.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain',
  whenScaled: sts.spec.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain',
});

/** The ordinal is one the set keeps at its current replica count (upstream's podInOrdinalRange). */
export function inOrdinalRange(sts: StatefulSet, ordinal: number): boolean {
  const start = startOrdinal(sts);
  return ordinal >= start && ordinal < start + (sts.spec.replicas ?? 1);
}

/**
 * The owner references upstream's updateClaimOwnerRefForSetAndPod gives a claim: the set's and the pod's own removed,
 * then, by persistentVolumeClaimRetentionPolicy, the set as controller (whenDeleted: Delete, while the ordinal is kept)
 * or the pod as controller (whenScaled: Delete, once its ordinal is scaled away). A claim another controller owns
 * gets neither. Undefined when the references are already so.
 */
export function claimOwnerReferences(
  sts: StatefulSet,
  claim: { metadata: { ownerReferences?: OwnerReference[] } },
  ordinal: number,
  pod?: ClaimPodRef,
): OwnerReference[] | undefined {
  const refs = claim.metadata.ownerReferences ?? [];
  const ours = (r: OwnerReference) =>
    (r.kind === 'StatefulSet' && r.name === sts.metadata.name && r.apiVersion.startsWith('apps/')) ||
    (r.kind === 'Pod' && r.name === `${sts.metadata.name}-${ordinal}` && r.apiVersion === 'v1');
  // A reference to an earlier set or pod of these names (another uid): someone else's claim now; left alone.
  if (refs.some((r) => ours(r) && r.uid !== (r.kind === 'Pod' ? pod?.uid : sts.metadata.uid) && (r.kind !== 'Pod' || pod))) return undefined;
  const unexpectedController = refs.some((r) => r.controller && !ours(r));
  const next = refs.filter((r) => !ours(r));
  if (!unexpectedController) {
    const { whenDeleted, whenScaled } = policyOf(sts);
    const scaledDown = !inOrdinalRange(sts, ordinal);
    const setRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts.metadata.name, uid: sts.metadata.uid, controller: true, blockOwnerDeletion: true };
    if (whenScaled === 'Delete' && scaledDown) {
      if (pod) next.push({ apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid, controller: true, blockOwnerDeletion: true });
    } else if (whenDeleted === 'Delete' && (whenScaled === 'Retain' || !scaledDown)) {
      next.push(setRef);
    }
  }
  const canonical = (list: OwnerReference[]) => JSON.stringify(list.map((r) => [r.uid, r.kind, r.name, !!r.controller, !!r.blockOwnerDeletion]).sort());
  return canonical(next) === canonical(refs) ? undefined : next;
}

/**
 * The claims of an ordinal, as upstream's getPersistentVolumeClaims makes them: each template in the set's namespace
 * under its per-ordinal name, with the set's selector labels over the template's, and the owners the retention
 * policy gives a claim of a kept ordinal.
 */
export function statefulClaims(sts: StatefulSet, ordinal: number): Record<string, unknown>[] {
  return (sts.spec.volumeClaimTemplates ?? []).map((t) => {
    const ownerReferences = claimOwnerReferences(sts, { metadata: {} }, ordinal) ?? [];
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName(sts, t, ordinal),
        namespace: sts.metadata.namespace,
        labels: { ...(t.metadata.labels ?? {}), ...(sts.spec.selector.matchLabels ?? {}) },
        ...(t.metadata.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
        ...(ownerReferences.length ? { ownerReferences } : {}),
      },
      spec: structuredClone(t.spec),
    };
  });
}
