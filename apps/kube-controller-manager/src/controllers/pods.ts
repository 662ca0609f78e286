import type { OwnerReference } from '@cerulean/kube';
import type { Informer, InformerHandlers } from '../client/informer';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from '../client/kube-client';
import { selectorMatches } from '../scheduler/filters';
import type { LabelSelector, Pod } from '../scheduler/objects';
import type { Expectations } from './expectations';

/** The metadata of a namespaced workload object (ReplicaSet, Deployment) as its controller reads it. */
export type WorkloadMetadata = KubeObject['metadata'] & {
  namespace: string;
  uid: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  ownerReferences?: OwnerReference[];
};

/** Pod facts every workload controller reads, with upstream's meaning. */

export type ApiPod = Pod &
  KubeObject & {
    metadata: Pod['metadata'] & { creationTimestamp?: string; annotations?: Record<string, string> };
    status?: Pod['status'] & {
      conditions?: { type: string; status: string; lastTransitionTime?: string; reason?: string; message?: string }[];
      containerStatuses?: { restartCount?: number }[];
    };
  };

/** Neither finished nor being deleted: the pods a controller counts toward its replicas. */
export function isActive(pod: ApiPod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

export function readyCondition(pod: ApiPod) {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

export function isReady(pod: ApiPod): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** Ready for at least `minReadySeconds` by `now` (upstream's IsPodAvailable). */
export function isAvailable(pod: ApiPod, minReadySeconds: number, now: Date): boolean {
  const ready = readyCondition(pod);
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= now.getTime();
}

export function controllerOf(object: { metadata: { ownerReferences?: OwnerReference[] | Pod['metadata']['ownerReferences'] } }): OwnerReference | undefined {
  return (object.metadata.ownerReferences as OwnerReference[] | undefined)?.find((o) => o.controller);
}

/** A pod this owner may claim: in its namespace, matching its selector, and owned by it or by no controller. */
export function claimable(pod: ApiPod, owner: { metadata: { uid?: string; namespace?: string } }, selector: LabelSelector): 'owned' | 'orphan' | 'other' {
  if (pod.metadata.namespace !== owner.metadata.namespace) return 'other';
  const ref = controllerOf(pod);
  if (ref) return ref.uid === owner.metadata.uid ? 'owned' : 'other';
  return selectorMatches(selector, pod.metadata.labels) && !pod.metadata.deletionTimestamp ? 'orphan' : 'other';
}

/** The controller that claims pods: its apiVersion and kind name it in the owner reference it writes. */
export interface PodOwner {
  apiVersion: string;
  kind: string;
  metadata: { name: string; uid: string; namespace: string; deletionTimestamp?: string };
}

/**
 * Upstream's ControllerRefManager for pods: the pods `owner` controls, after adopting orphans its selector matches
 * (unless it is being deleted, or `adopt` is false) and releasing owned pods that stopped matching (unless `release`
 * is false). Each change carries the pod's resourceVersion; a pod changed or gone meanwhile is left out, and its
 * watch event brings it back to the next sync.
 */
export async function claimPods<P extends ApiPod>(
  client: KubeClient,
  candidates: readonly P[],
  owner: PodOwner,
  selector: LabelSelector,
  options: { adopt?: boolean; release?: boolean } = {},
): Promise<P[]> {
  const owned: P[] = [];
  for (const pod of candidates) {
    const claim = claimable(pod, owner, selector);
    if (claim === 'other') continue;
    // The common case, a pod it owns that still matches, needs no request.
    if (claim === 'owned' && (options.release === false || selectorMatches(selector, pod.metadata.labels))) {
      owned.push(pod);
      continue;
    }
    const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
    const refs = (pod.metadata.ownerReferences ?? []) as OwnerReference[];
    try {
      if (claim === 'owned') {
        // Owned, but its labels no longer match: release it.
        await client.patch(path, {
          metadata: { ownerReferences: refs.filter((r) => r.uid !== owner.metadata.uid), resourceVersion: pod.metadata.resourceVersion },
        });
        continue;
      }
      if (owner.metadata.deletionTimestamp || options.adopt === false) continue;
      const ref = {
        apiVersion: owner.apiVersion,
        kind: owner.kind,
        name: owner.metadata.name,
        uid: owner.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      };
      await client.patch(path, { metadata: { ownerReferences: [...refs, ref], resourceVersion: pod.metadata.resourceVersion } });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) continue;
      throw err;
    }
    owned.push(pod);
  }
  return owned;
}

/**
 * The pod informer's handlers for a controller of `kind` whose owners sit in `owners`: a pod it controls settles the
 * owner's expectations (created, being deleted, deleted) and queues the owner; a pod no controller owns queues every
 * owner whose selector matches it, which may adopt it.
 */
export function ownedPodHandlers<O extends { metadata: { namespace: string; name: string }; spec: { selector: LabelSelector } }>(
  kind: string,
  owners: Informer<O>,
  expectations: Expectations,
  enqueue: (key: string) => void,
): InformerHandlers<ApiPod> {
  const podKey = (pod: ApiPod) => `${pod.metadata.namespace}/${pod.metadata.name}`;
  return {
    upsert: (pod, previous) => {
      const owner = controllerOf(pod);
      if (owner?.kind === kind) {
        const key = `${pod.metadata.namespace}/${owner.name}`;
        if (!previous) expectations.created(key);
        if (pod.metadata.deletionTimestamp) expectations.deleted(key, podKey(pod));
        enqueue(key);
      } else if (!owner) {
        for (const o of owners.listNamespace(pod.metadata.namespace ?? ''))
          if (selectorMatches(o.spec.selector, pod.metadata.labels)) enqueue(`${o.metadata.namespace}/${o.metadata.name}`);
      }
    },
    deleted: (pod) => {
      const owner = controllerOf(pod);
      if (owner?.kind !== kind) return;
      const key = `${pod.metadata.namespace}/${owner.name}`;
      expectations.deleted(key, podKey(pod));
      enqueue(key);
    },
  };
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * The order in which a controller scaling down removes pods, upstream's ActivePodsWithRanks: not yet on a node,
 * then pending before unknown before running, not ready before ready, pods sharing a node with more of their
 * siblings first, ready for less time, restarted more, newer.
 */
export function deletionOrder(pods: readonly ApiPod[]): ApiPod[] {
  const perNode = new Map<string, number>();
  for (const p of pods) if (p.spec.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  const readySince = (p: ApiPod) => Date.parse(readyCondition(p)?.lastTransitionTime ?? '') || 0;
  const restarts = (p: ApiPod) => (p.status?.containerStatuses ?? []).reduce((max, c) => Math.max(max, c.restartCount ?? 0), 0);
  const created = (p: ApiPod) => Date.parse(p.metadata.creationTimestamp ?? '') || 0;
  return [...pods].sort((a, b) => {
    if (!!a.spec.nodeName !== !!b.spec.nodeName) return a.spec.nodeName ? 1 : -1;
    const phase = (PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 0) - (PHASE_RANK[b.status?.phase ?? 'Pending'] ?? 0);
    if (phase !== 0) return phase;
    if (isReady(a) !== isReady(b)) return isReady(a) ? 1 : -1;
    const crowd = (perNode.get(b.spec.nodeName ?? '') ?? 0) - (perNode.get(a.spec.nodeName ?? '') ?? 0);
    if (crowd !== 0) return crowd;
    if (isReady(a) && isReady(b) && readySince(a) !== readySince(b)) return readySince(b) - readySince(a);
    if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
    return created(b) - created(a);
  });
}

/** A pod made from a controller's template, owned by it, named `<prefix><random>` by the API server. */
export function podFromTemplate(
  template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Pod['spec'] },
  namespace: string,
  generateName: string,
  owner: OwnerReference,
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName,
      namespace,
      labels: { ...(template.metadata?.labels ?? {}) },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(template.spec),
  };
}
