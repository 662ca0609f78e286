import type { Informer } from '../client/informer';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from '../client/kube-client';
import { allSynced } from './informer-hub';
import type { Controller, ControllerContext } from './controller';
import { PVC_PROTECTION_FINALIZER, podUsesClaim, type ClaimUser, type PersistentVolumeClaim } from './persistent-volume.logic';
import { WorkQueue } from './work-queue';

type ClaimPod = ClaimUser & KubeObject & { metadata: ClaimUser['metadata'] & KubeObject['metadata'] & { namespace: string } };

/**
 * Upstream's PVC protection controller (persistentvolumeclaim-protection): every claim carries the
 * `kubernetes.io/pvc-protection` finalizer, and a deleted claim keeps it (so stays, Terminating) while a pod on a
 * node still uses it, finished or not, until the pod object is gone (upstream's rule). "Unused" is never
 * concluded from the cache alone: a live list of the namespace's pods confirms it first.
 */
export class PvcProtectionController implements Controller {
  readonly name = 'persistentvolumeclaim-protection';
  private readonly claims: Informer<PersistentVolumeClaim>;
  private readonly pods: Informer<ClaimPod>;
  private readonly queue: WorkQueue;
  private readonly client: KubeClient;

  constructor(options: ControllerContext) {
    this.client = options.client;
    this.queue = new WorkQueue((key) => this.sync(key), { onError: (key, err) => options.log?.('pvc protection sync failed', { key, error: String(err) }) });
    this.claims = options.informers.informer<PersistentVolumeClaim>('/api/v1/persistentvolumeclaims', {
      upsert: (c) => {
        const has = c.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER);
        if ((!has && !c.metadata.deletionTimestamp) || (has && c.metadata.deletionTimestamp)) this.queue.add(`${c.metadata.namespace}/${c.metadata.name}`);
      },
    });
    // A pod that finished, went, or was never placed may be what a deleted claim waits for.
    const enqueueClaims = (pod: ClaimPod, deleted: boolean) => {
      const done = deleted || !pod.spec.nodeName || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' || !!pod.metadata.deletionTimestamp;
      if (!done) return;
      for (const v of pod.spec.volumes ?? []) if (v.persistentVolumeClaim) this.queue.add(`${pod.metadata.namespace}/${v.persistentVolumeClaim.claimName}`);
    };
    this.pods = options.informers.informer<ClaimPod>('/api/v1/pods', {
      upsert: (pod) => enqueueClaims(pod, false),
      deleted: (pod) => enqueueClaims(pod, true),
    });
  }

  start(): void {
    this.queue.start();
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private async sync(key: string): Promise<{ requeueAfterMs?: number } | void> {
    if (!allSynced([this.claims, this.pods])) return { requeueAfterMs: 100 };
    const [namespace, name] = key.split('/');
    const claim = this.claims.get(namespace, name);
    if (!claim) return;
    const finalizers = claim.metadata.finalizers ?? [];
    const path = `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${encodeURIComponent(name)}`;
    const write = async (next: string[]) => {
      try {
        await this.client.patch(path, { metadata: { finalizers: next, resourceVersion: claim.metadata.resourceVersion } });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err; // a conflict: the newer version is queued by its watch event
      }
    };
    if (!claim.metadata.deletionTimestamp) {
      if (!finalizers.includes(PVC_PROTECTION_FINALIZER)) await write([...finalizers, PVC_PROTECTION_FINALIZER]);
      return;
    }
    if (!finalizers.includes(PVC_PROTECTION_FINALIZER)) return;
    if (this.pods.listNamespace(namespace).some((p) => podUsesClaim(p, claim))) return;
    const live = await this.client.list<ClaimPod>(`/api/v1/namespaces/${namespace}/pods`);
    if (live.items.some((p) => podUsesClaim(p, claim))) return;
    await write(finalizers.filter((f) => f !== PVC_PROTECTION_FINALIZER));
  }
}
