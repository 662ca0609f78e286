import type { Informer } from '../client/informer';
import { isNotFound, type KubeClient, type KubeObject } from '../client/kube-client';
import type { Controller, ControllerContext } from './controller';
import { selectorMatches } from '../scheduler/filters';
import type { LabelSelector, Pod } from '../scheduler/objects';
import { Expectations } from './expectations';
import type { OwnerReference } from '@cerulean/kube';
import {
  claimPods,
  controllerOf,
  deletionOrder,
  isActive,
  isAvailable,
  isReady,
  podFromTemplate,
  readyCondition,
  type ApiPod,
  type WorkloadMetadata,
} from './pods';
import { WorkQueue } from './work-queue';

export interface ReplicaSet extends KubeObject {
  metadata: WorkloadMetadata;
  spec: {
    replicas?: number;
    minReadySeconds?: number;
    selector: LabelSelector;
    template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: Pod['spec'] };
  };
  status?: ReplicaSetStatus;
}

export interface ReplicaSetStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: unknown[];
}

/**
 * Whether a pod's update can change what its ReplicaSet does or reports: whose it is and whether it still matches
 * (labels, owner references), whether it counts (deletion, phase), and its readiness. A binding or a container's
 * restart count does not; skipping those spares a sync of the whole ReplicaSet, which for a large one while the
 * scheduler binds its pods would otherwise run once per binding.
 */
export function mattersToOwner(previous: ApiPod, pod: ApiPod): boolean {
  const ready = (p: ApiPod) => {
    const c = readyCondition(p);
    return c ? `${c.status}/${c.lastTransitionTime ?? ''}` : '';
  };
  return (
    previous.metadata.deletionTimestamp !== pod.metadata.deletionTimestamp ||
    previous.status?.phase !== pod.status?.phase ||
    ready(previous) !== ready(pod) ||
    JSON.stringify(previous.metadata.labels) !== JSON.stringify(pod.metadata.labels) ||
    JSON.stringify(previous.metadata.ownerReferences) !== JSON.stringify(pod.metadata.ownerReferences)
  );
}

/** Pods one sync may ask for or remove; the rest waits for the next sync (upstream's burstReplicas). */
const BURST = 500;

/** The status a ReplicaSet's pods give it (upstream's calculateStatus). */
export function replicaSetStatus(rs: ReplicaSet, active: readonly ApiPod[], now: Date): ReplicaSetStatus {
  const templateLabels = Object.entries(rs.spec.template.metadata?.labels ?? {});
  const minReadySeconds = rs.spec.minReadySeconds ?? 0;
  // One pass: a ReplicaSet syncs on every change of any of its pods, and a large one has thousands.
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const p of active) {
    if (templateLabels.every(([k, v]) => p.metadata.labels?.[k] === v)) fullyLabeled++;
    if (isReady(p)) {
      ready++;
      if (isAvailable(p, minReadySeconds, now)) available++;
    }
  }
  return {
    replicas: active.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rs.metadata.generation,
  };
}

const sameStatus = (a: ReplicaSetStatus | undefined, b: ReplicaSetStatus) =>
  !!a &&
  (a.replicas ?? 0) === b.replicas &&
  (a.fullyLabeledReplicas ?? 0) === b.fullyLabeledReplicas &&
  (a.readyReplicas ?? 0) === b.readyReplicas &&
  (a.availableReplicas ?? 0) === b.availableReplicas &&
  a.observedGeneration === b.observedGeneration;

/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods made from the template, adopting matching orphans
 * and releasing pods that stopped matching; creates in slow-start batches (1, 2, 4, …) so a failing template costs
 * one request, deletes in upstream's ranking, and reports replicas, ready and available counts in status.
 */
export class ReplicaSetController implements Controller {
  readonly name = 'replicaset';
  private readonly sets: Informer<ReplicaSet>;
  private readonly pods: Informer<ApiPod>;
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();

  private readonly client: KubeClient;

  constructor(private readonly options: ControllerContext) {
    this.client = options.client;
    this.queue = new WorkQueue((key) => this.sync(key), { onError: (key, err) => options.log?.('replicaset sync failed', { key, error: String(err) }) });
    this.sets = options.informers.informer<ReplicaSet>('/apis/apps/v1/replicasets', {
      upsert: (rs) => this.queue.add(keyOf(rs)),
      deleted: (rs) => this.expectations.forget(keyOf(rs)),
    });
    this.pods = options.informers.informer<ApiPod>('/api/v1/pods', {
      upsert: (pod, previous) => {
        const owner = controllerOf(pod);
        if (owner?.kind === 'ReplicaSet') {
          const key = `${pod.metadata.namespace}/${owner.name}`;
          if (!previous) this.expectations.created(key);
          // A pod marked for deletion counts as deleted: its kubelet may take the grace period to remove it.
          if (pod.metadata.deletionTimestamp) this.expectations.deleted(key, `${pod.metadata.namespace}/${pod.metadata.name}`);
          if (!previous || mattersToOwner(previous, pod)) this.queue.add(key);
        }
        if (!owner || (previous && JSON.stringify(previous.metadata.labels) !== JSON.stringify(pod.metadata.labels))) this.enqueueMatching(pod);
      },
      deleted: (pod) => {
        const owner = controllerOf(pod);
        if (owner?.kind !== 'ReplicaSet') return;
        const key = `${pod.metadata.namespace}/${owner.name}`;
        this.expectations.deleted(key, `${pod.metadata.namespace}/${pod.metadata.name}`);
        this.queue.add(key);
      },
    });
  }

  start(): void {
    this.queue.start();
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private enqueueMatching(pod: ApiPod): void {
    for (const rs of this.sets.listNamespace(pod.metadata.namespace ?? '')) {
      if (selectorMatches(rs.spec.selector, pod.metadata.labels)) this.queue.add(keyOf(rs));
    }
  }

  private async sync(key: string): Promise<void> {
    if (!this.sets.synced || !this.pods.synced) {
      this.queue.addAfter(key, 100);
      return;
    }
    const [namespace, name] = key.split('/');
    const rs = this.sets.get(namespace, name);
    if (!rs) {
      this.expectations.forget(key);
      return;
    }
    const now = this.options.now?.() ?? new Date();
    const owned = await this.claimPods(rs);
    const active = owned.filter(isActive);
    if (this.expectations.satisfied(key) && !rs.metadata.deletionTimestamp) await this.manageReplicas(rs, active);
    const status = replicaSetStatus(rs, active, now);
    if (!sameStatus(rs.status, status)) {
      try {
        await this.client.patch(`/apis/apps/v1/namespaces/${namespace}/replicasets/${name}/status`, { status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    // A pod turns available minReadySeconds after it turned ready: look again then.
    const minReady = rs.spec.minReadySeconds ?? 0;
    if (minReady > 0 && status.readyReplicas !== status.availableReplicas) this.queue.addAfter(key, minReady * 1000);
  }

  /** The pods this ReplicaSet owns after adopting matching orphans and releasing owned pods that stopped matching. */
  private claimPods(rs: ReplicaSet): Promise<ApiPod[]> {
    return claimPods(
      this.client,
      this.pods.listNamespace(rs.metadata.namespace),
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: rs.metadata },
      rs.spec.selector,
    );
  }

  private async manageReplicas(rs: ReplicaSet, active: readonly ApiPod[]): Promise<void> {
    const key = keyOf(rs);
    const diff = active.length - (rs.spec.replicas ?? 1);
    if (diff < 0) {
      let remaining = Math.min(-diff, BURST);
      this.expectations.expectCreates(key, remaining);
      // Slow start: 1, 2, 4, … pods per batch; a failure stops the rest (a bad template fails once, not 500 times).
      for (let batch = 1; remaining > 0; batch *= 2) {
        const size = Math.min(batch, remaining);
        const results = await Promise.allSettled(
          Array.from({ length: size }, () =>
            this.client.create(
              `/api/v1/namespaces/${rs.metadata.namespace}/pods`,
              podFromTemplate(rs.spec.template, rs.metadata.namespace, `${rs.metadata.name}-`, ownerRef(rs)),
            ),
          ),
        );
        const failed = results.filter((r) => r.status === 'rejected');
        for (let i = 0; i < failed.length; i++) this.expectations.created(key);
        remaining -= size;
        if (failed.length > 0) {
          for (let i = 0; i < remaining; i++) this.expectations.created(key);
          throw (failed[0] as PromiseRejectedResult).reason;
        }
      }
    } else if (diff > 0) {
      const victims = deletionOrder(active).slice(0, Math.min(diff, BURST));
      this.expectations.expectDeletes(
        key,
        victims.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
      );
      await Promise.all(
        victims.map(async (p) => {
          try {
            await this.client.delete(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`);
          } catch (err) {
            this.expectations.deleted(key, `${p.metadata.namespace}/${p.metadata.name}`);
            if (!isNotFound(err)) throw err;
          }
        }),
      );
    }
  }
}

function keyOf(rs: ReplicaSet): string {
  return `${rs.metadata.namespace}/${rs.metadata.name}`;
}

function ownerRef(rs: ReplicaSet): OwnerReference {
  return { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name, uid: rs.metadata.uid };
}
