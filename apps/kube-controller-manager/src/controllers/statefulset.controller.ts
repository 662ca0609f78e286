import type { Informer } from '../client/informer';
import { KubeApiError, isConflict, isNotFound, type KubeClient } from '../client/kube-client';
import type { Controller, ControllerContext } from './controller';
import { canonicalJson, type PodTemplate } from './deployment.logic';
import { EventRecorder } from './events';
import { Expectations } from './expectations';
import { claimPods, ownedPodHandlers, type ApiPod } from './pods';
import { RevisionHistory, type ControllerRevision, type HistoryOwner } from './revisions';
import {
  claimOwnerReferences,
  ordinalOf,
  planStatefulSet,
  statefulClaims,
  statefulPod,
  statefulSetStatus,
  type StatefulClaim,
  type StatefulSet,
} from './statefulset.logic';
import { WorkQueue } from './work-queue';

/**
 * The StatefulSet controller: pods with stable names `<set>-<ordinal>` (from spec.ordinals.start), hostname and
 * subdomain from serviceName, created in order and each only once the one before is Running and Ready
 * (OrderedReady) or all at once (Parallel), removed from the highest ordinal down, and rolled to a new template
 * from the highest ordinal down to the partition (RollingUpdate) or only when deleted (OnDelete), with the
 * template history as ControllerRevisions. Before a pod is made, the claims of its volumeClaimTemplates are
 * (`<template>-<set>-<ordinal>`, kept across the pod's replacements), and persistentVolumeClaimRetentionPolicy decides
 * their owners: the set (deleted with it) or, once scaled away, the pod (deleted with it), or none (kept).
 */
export class StatefulSetController implements Controller {
  readonly name = 'statefulset';
  private readonly sets: Informer<StatefulSet>;
  private readonly pods: Informer<ApiPod>;
  private readonly revisions: Informer<ControllerRevision>;
  private readonly claims: Informer<StatefulClaim>;
  private readonly history: RevisionHistory;
  private readonly queue: WorkQueue;
  private readonly expectations = new Expectations();
  private readonly events: EventRecorder;
  private readonly client: KubeClient;

  constructor(private readonly options: ControllerContext) {
    this.client = options.client;
    this.events = new EventRecorder(options.client, 'statefulset-controller', options.log, options.now);
    this.queue = new WorkQueue((key) => this.sync(key), { onError: (key, err) => options.log?.('statefulset sync failed', { key, error: String(err) }) });
    this.sets = options.informers.informer<StatefulSet>('/apis/apps/v1/statefulsets', {
      upsert: (sts) => this.queue.add(keyOf(sts)),
      deleted: (sts) => this.expectations.forget(keyOf(sts)),
    });
    this.pods = options.informers.informer<ApiPod>(
      '/api/v1/pods',
      ownedPodHandlers('StatefulSet', this.sets, this.expectations, (key) => this.queue.add(key)),
    );
    this.revisions = options.informers.informer<ControllerRevision>('/apis/apps/v1/controllerrevisions', {});
    this.claims = options.informers.informer<StatefulClaim>('/api/v1/persistentvolumeclaims', {});
    this.history = new RevisionHistory(this.client, this.revisions);
  }

  start(): void {
    this.queue.start();
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    if (![this.sets, this.pods, this.revisions, this.claims].every((i) => i.synced)) {
      this.queue.addAfter(key, 100);
      return;
    }
    const [namespace, name] = key.split('/');
    const sts = this.sets.get(namespace, name);
    if (!sts) {
      this.expectations.forget(key);
      return;
    }
    const owner: HistoryOwner = { ...sts, apiVersion: 'apps/v1', kind: 'StatefulSet' };
    const revisions = await this.history.owned(owner);
    const pods = await this.claimPods(sts);
    if (sts.metadata.deletionTimestamp) return;
    const update = await this.history.current(owner, revisions, (collisionCount) =>
      this.client.patch(`/apis/apps/v1/namespaces/${namespace}/statefulsets/${name}/status`, { status: { collisionCount } }),
    );
    const all = revisions.some((r) => r.metadata.uid === update.metadata.uid) ? revisions : [...revisions, update];
    // The current revision is the one status names while it still exists; a new set starts at the update revision.
    const current = all.find((r) => r.metadata.name === sts.status?.currentRevision) ?? update;

    if (this.expectations.satisfied(key)) {
      await this.retainClaims(sts, pods);
      const plan = planStatefulSet(sts, pods, update.metadata.name);
      await this.apply(sts, plan, current, update);
    }
    const status = statefulSetStatus(sts, pods, current.metadata.name, update.metadata.name, this.options.now?.() ?? new Date());
    if (!sts.status || canonicalJson(sts.status) !== canonicalJson(status)) {
      try {
        await this.client.patch(`/apis/apps/v1/namespaces/${namespace}/statefulsets/${name}/status`, { status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const live = new Set(pods.map((p) => p.metadata.labels?.['controller-revision-hash'] ?? ''));
    live.add(current.metadata.name);
    await this.history.prune(owner, all, update, live);
    const minReady = sts.spec.minReadySeconds ?? 0;
    if (minReady > 0 && status.readyReplicas !== status.availableReplicas) this.queue.addAfter(key, minReady * 1000);
  }

  private async apply(sts: StatefulSet, plan: ReturnType<typeof planStatefulSet>, current: ControllerRevision, update: ControllerRevision): Promise<void> {
    const key = keyOf(sts);
    const subject = { ...sts, apiVersion: 'apps/v1', kind: 'StatefulSet' };
    this.expectations.expectCreates(key, plan.create.length);
    this.expectations.expectDeletes(
      key,
      plan.delete.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    );
    const templateOf = (rev: ControllerRevision): PodTemplate =>
      rev.metadata.uid === update.metadata.uid ? sts.spec.template : ((rev.data as { spec: { template: PodTemplate } }).spec.template ?? sts.spec.template);
    const results = await Promise.allSettled([
      ...plan.create.map(async ({ ordinal, revision }) => {
        const rev = revision === 'current' ? current : update;
        const { $patch: _directive, ...template } = templateOf(rev) as PodTemplate & { $patch?: string };
        try {
          await this.createClaims(sts, ordinal);
        } catch (err) {
          this.expectations.created(key);
          throw err;
        }
        try {
          const pod = await this.client.create<ApiPod>(
            `/api/v1/namespaces/${sts.metadata.namespace}/pods`,
            statefulPod(sts, template, ordinal, rev.metadata.name),
          );
          this.events.record(subject, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${sts.metadata.name} successful`);
        } catch (err) {
          this.expectations.created(key);
          if (err instanceof KubeApiError && err.reason === 'AlreadyExists') return; // made by an earlier pass the cache has not shown yet
          this.events.record(
            subject,
            'Warning',
            'FailedCreate',
            `create Pod ${sts.metadata.name}-${ordinal} in StatefulSet ${sts.metadata.name} failed error: ${(err as Error).message}`,
          );
          throw err;
        }
      }),
      ...plan.delete.map(async (p) => {
        try {
          await this.client.delete(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`);
          this.events.record(subject, 'Normal', 'SuccessfulDelete', `delete Pod ${p.metadata.name} in StatefulSet ${sts.metadata.name} successful`);
        } catch (err) {
          this.expectations.deleted(key, `${p.metadata.namespace}/${p.metadata.name}`);
          if (!isNotFound(err)) throw err;
        }
      }),
    ]);
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
  }

  /**
   * Upstream's createPersistentVolumeClaims: each claim of the ordinal made if absent (as the API has it: the cache
   * may not show a claim made a moment ago, and AlreadyExists is success). A claim still being deleted holds the pod
   * back until it is gone, so the new pod never mounts a dying claim.
   */
  private async createClaims(sts: StatefulSet, ordinal: number): Promise<void> {
    const subject = { ...sts, apiVersion: 'apps/v1', kind: 'StatefulSet' };
    const podName = `${sts.metadata.name}-${ordinal}`;
    for (const claim of statefulClaims(sts, ordinal) as { metadata: { name: string; namespace: string } }[]) {
      const existing = this.claims.get(sts.metadata.namespace, claim.metadata.name);
      if (existing) {
        if (existing.metadata.deletionTimestamp) {
          this.queue.addAfter(keyOf(sts), 1000);
          throw new Error(`pvc ${claim.metadata.name} is being deleted`);
        }
        continue;
      }
      try {
        await this.client.create(`/api/v1/namespaces/${sts.metadata.namespace}/persistentvolumeclaims`, claim);
        this.events.record(
          subject,
          'Normal',
          'SuccessfulCreate',
          `create Claim ${claim.metadata.name} Pod ${podName} in StatefulSet ${sts.metadata.name} success`,
        );
      } catch (err) {
        if (err instanceof KubeApiError && err.reason === 'AlreadyExists') continue;
        this.events.record(
          subject,
          'Warning',
          'FailedCreate',
          `create Claim ${claim.metadata.name} for Pod ${podName} in StatefulSet ${sts.metadata.name} failed error: ${(err as Error).message}`,
        );
        throw err;
      }
    }
  }

  /** The owners persistentVolumeClaimRetentionPolicy gives the claims of the set's pods (upstream's UpdatePodClaimForRetentionPolicy). */
  private async retainClaims(sts: StatefulSet, pods: readonly ApiPod[]): Promise<void> {
    const templates = sts.spec.volumeClaimTemplates ?? [];
    if (!templates.length) return;
    for (const pod of pods) {
      const ordinal = ordinalOf(sts.metadata.name, pod);
      if (ordinal === undefined || !pod.metadata.uid) continue;
      for (const t of templates) {
        const claim = this.claims.get(sts.metadata.namespace, `${t.metadata.name}-${sts.metadata.name}-${ordinal}`);
        if (!claim || claim.metadata.deletionTimestamp) continue;
        const ownerReferences = claimOwnerReferences(sts, claim, ordinal, { name: pod.metadata.name, uid: pod.metadata.uid });
        if (!ownerReferences) continue;
        try {
          await this.client.patch(`/api/v1/namespaces/${sts.metadata.namespace}/persistentvolumeclaims/${claim.metadata.name}`, {
            metadata: { ownerReferences, resourceVersion: claim.metadata.resourceVersion },
          });
        } catch (err) {
          if (isConflict(err))
            this.queue.addAfter(keyOf(sts), 200); // the cache had an older claim: look again once it catches up
          else if (!isNotFound(err)) throw err;
        }
      }
    }
  }

  private claimPods(sts: StatefulSet): Promise<ApiPod[]> {
    return claimPods(
      this.client,
      this.pods.listNamespace(sts.metadata.namespace),
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: sts.metadata },
      sts.spec.selector,
    );
  }
}

function keyOf(sts: StatefulSet): string {
  return `${sts.metadata.namespace}/${sts.metadata.name}`;
}
