import type { Informer } from '../client/informer';
import { isConflict, isNotFound, type KubeClient } from '../client/kube-client';
import type { Controller, ControllerContext } from './controller';
import { PV_PROTECTION_FINALIZER, volumePhase, type PersistentVolume } from './persistent-volume.logic';
import { WorkQueue } from './work-queue';

/**
 * Upstream's PV protection controller (persistentvolume-protection): every volume carries the
 * `kubernetes.io/pv-protection` finalizer, and a deleted volume keeps it while it is Bound to a claim, as the API
 * has it now (not only as the cache last saw it).
 */
export class PvProtectionController implements Controller {
  readonly name = 'persistentvolume-protection';
  private readonly volumes: Informer<PersistentVolume>;
  private readonly queue: WorkQueue;
  private readonly client: KubeClient;

  constructor(options: ControllerContext) {
    this.client = options.client;
    this.queue = new WorkQueue((key) => this.sync(key), { onError: (key, err) => options.log?.('pv protection sync failed', { key, error: String(err) }) });
    this.volumes = options.informers.informer<PersistentVolume>('/api/v1/persistentvolumes', {
      upsert: (v) => {
        const has = v.metadata.finalizers?.includes(PV_PROTECTION_FINALIZER);
        if ((!has && !v.metadata.deletionTimestamp) || (has && v.metadata.deletionTimestamp)) this.queue.add(v.metadata.name);
      },
    });
  }

  start(): void {
    this.queue.start();
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  private async sync(name: string): Promise<{ requeueAfterMs?: number } | void> {
    if (!this.volumes.synced) return { requeueAfterMs: 100 };
    const cached = this.volumes.get(undefined, name);
    if (!cached) return;
    const path = `/api/v1/persistentvolumes/${encodeURIComponent(name)}`;
    const volume = await this.client.getIfExists<PersistentVolume>(path);
    if (!volume) return;
    const finalizers = volume.metadata.finalizers ?? [];
    const has = finalizers.includes(PV_PROTECTION_FINALIZER);
    let next: string[] | undefined;
    if (!volume.metadata.deletionTimestamp && !has) next = [...finalizers, PV_PROTECTION_FINALIZER];
    else if (volume.metadata.deletionTimestamp && has && volumePhase(volume) !== 'Bound') next = finalizers.filter((f) => f !== PV_PROTECTION_FINALIZER);
    if (!next) return;
    try {
      await this.client.patch(path, { metadata: { finalizers: next, resourceVersion: volume.metadata.resourceVersion } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
