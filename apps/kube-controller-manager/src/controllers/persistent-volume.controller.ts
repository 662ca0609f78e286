import type { Informer } from '../client/informer';
import { KubeApiError, isNotFound, type KubeClient } from '../client/kube-client';
import { allSynced } from './informer-hub';
import type { Controller, ControllerContext } from './controller';
import { EventRecorder } from './events';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  DISK_CSI_PROVISIONER,
  chooseNode,
  claimClass,
  claimPhase,
  claimRefOf,
  expansionTarget,
  findBestMatch,
  isDelayBinding,
  isVolumeBoundToClaim,
  provisionedLocation,
  provisionedVolume,
  provisionedVolumeName,
  reclaimAction,
  volumeClass,
  volumeAction,
  volumePhase,
  wipePod,
  wipePodName,
  WIPE_NAMESPACE,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type StorageClass,
  type StorageNode,
} from './persistent-volume.logic';
import { WorkQueue } from './work-queue';

/** Upstream's --pvclaimbinder-sync-period: unbound claims and released volumes are looked at again this often. */
const RESYNC_MS = 15_000;
const CLAIMS = '/api/v1/persistentvolumeclaims';
const VOLUMES = '/api/v1/persistentvolumes';
const claimPath = (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${encodeURIComponent(name)}`;
const volumePath = (name: string) => `${VOLUMES}/${encodeURIComponent(name)}`;

interface WipePod {
  status?: {
    phase?: string;
    message?: string;
    containerStatuses?: { state?: { terminated?: { reason?: string; exitCode?: number; message?: string } } }[];
  };
}

/**
 * Upstream's PersistentVolume controller (persistentvolume-binder) with csi-provisioner for `disk.csi.azure.com`
 * beside it. A claim is bound to the smallest Available volume that fits it, to the volume it names, or (its class
 * provisioning) to a volume made for it: `pvc-<claim uid>`, a local directory on the node the scheduler chose for
 * its first consumer (WaitForFirstConsumer) or on a Ready node (Immediate). Binding writes the volume's claimRef
 * and phase, then the claim's volumeName, annotations and phase, each write resuming where a crash left the last.
 * A volume whose claim went is Released and then deleted, its directory wiped first (reclaimPolicy Delete, volumes
 * it provisioned), or kept.
 */
export class PersistentVolumeController implements Controller {
  readonly name = 'persistentvolume-binder';
  private readonly claims: Informer<PersistentVolumeClaim>;
  private readonly volumes: Informer<PersistentVolume>;
  private readonly classes: Informer<StorageClass>;
  private readonly nodes: Informer<StorageNode>;
  // One worker each, as upstream: two syncs of different claims at once could both pick the same volume.
  private readonly claimQueue: WorkQueue;
  private readonly volumeQueue: WorkQueue;
  private readonly events: EventRecorder;
  private readonly provisionerEvents: EventRecorder;
  private readonly resizerEvents: EventRecorder;
  private readonly client: KubeClient;
  /** Waiting events already told for a claim (uid/reason/message): upstream's recorder folds the repeats into one count. */
  private readonly told = new Set<string>();

  constructor(options: ControllerContext) {
    this.client = options.client;
    this.events = new EventRecorder(options.client, 'persistentvolume-controller', options.log, options.now);
    this.provisionerEvents = new EventRecorder(options.client, `${DISK_CSI_PROVISIONER}_kube-controller-manager`, options.log, options.now);
    this.resizerEvents = new EventRecorder(options.client, `external-resizer ${DISK_CSI_PROVISIONER}`, options.log, options.now);
    const onError = (what: string) => (key: string, err: unknown) => options.log?.(`${what} sync failed`, { key, error: String(err) });
    this.claimQueue = new WorkQueue((key) => this.syncClaim(key), { workers: 1, onError: onError('persistentvolumeclaim') });
    this.volumeQueue = new WorkQueue((key) => this.syncVolume(key), { workers: 1, onError: onError('persistentvolume') });
    const claimKey = (c: PersistentVolumeClaim) => `${c.metadata.namespace}/${c.metadata.name}`;
    this.claims = options.informers.informer<PersistentVolumeClaim>(CLAIMS, {
      upsert: (c) => this.claimQueue.add(claimKey(c)),
      deleted: (c) => {
        for (const k of [...this.told]) if (k.startsWith(`${c.metadata.uid}/`)) this.told.delete(k);
        // Its volume is Released now.
        for (const v of this.volumes.list())
          if (v.spec.claimRef?.uid === c.metadata.uid || v.metadata.name === c.spec.volumeName) this.volumeQueue.add(v.metadata.name);
      },
    });
    const enqueueClaimOf = (v: PersistentVolume) => {
      const ref = v.spec.claimRef;
      if (ref?.namespace && ref.name) this.claimQueue.add(`${ref.namespace}/${ref.name}`);
    };
    const enqueuePending = (className?: string) => {
      for (const c of this.claims.list())
        if (claimPhase(c) === 'Pending' && (className === undefined || claimClass(c) === className)) this.claimQueue.add(claimKey(c));
    };
    this.volumes = options.informers.informer<PersistentVolume>(VOLUMES, {
      upsert: (v, prev) => {
        this.volumeQueue.add(v.metadata.name);
        enqueueClaimOf(v);
        // A volume turning Available may be what a Pending claim of its class waits for.
        if (volumePhase(v) === 'Available' && (!prev || volumePhase(prev) !== 'Available')) enqueuePending(volumeClass(v));
      },
      deleted: enqueueClaimOf,
    });
    this.classes = options.informers.informer<StorageClass>('/apis/storage.k8s.io/v1/storageclasses', { upsert: (sc) => enqueuePending(sc.metadata.name) });
    // A node turning Ready may be the one an Immediate claim waits for.
    this.nodes = options.informers.informer<StorageNode>('/api/v1/nodes', {
      upsert: (n, prev) => {
        const ready = (x?: StorageNode) => x?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !x.spec?.unschedulable;
        if (ready(n) && !ready(prev)) enqueuePending();
      },
    });
  }

  start(): void {
    this.claimQueue.start();
    this.volumeQueue.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.claimQueue.stop(), this.volumeQueue.stop()]);
  }

  private synced(): boolean {
    return allSynced([this.claims, this.volumes, this.classes, this.nodes]);
  }

  // ---- claims ----

  private async syncClaim(key: string): Promise<{ requeueAfterMs?: number } | void> {
    if (!this.synced()) return { requeueAfterMs: 100 };
    const [namespace, name] = key.split('/');
    let claim = this.claims.get(namespace, name);
    if (!claim) return;
    if (!claim.metadata.annotations?.[ANN_BIND_COMPLETED]) {
      // The cache may not have our own last write yet: never bind or provision from a stale view.
      claim = await this.client.getIfExists<PersistentVolumeClaim>(claimPath(namespace, name));
      if (!claim) return;
    }
    if (claim.metadata.annotations?.[ANN_BIND_COMPLETED]) return this.syncBoundClaim(claim);
    return this.syncUnboundClaim(claim);
  }

  private async syncUnboundClaim(claim: PersistentVolumeClaim): Promise<{ requeueAfterMs?: number } | void> {
    if (claim.metadata.deletionTimestamp) return; // a claim on its way out gets no volume
    if (claim.spec.volumeName) {
      // The user asked for this volume.
      const volume = this.volumes.get(undefined, claim.spec.volumeName) ?? (await this.client.getIfExists<PersistentVolume>(volumePath(claim.spec.volumeName)));
      if (volume && (!volume.spec.claimRef || isVolumeBoundToClaim(volume, claim))) return this.bind(volume, claim);
      // Missing, or bound to another claim: wait for it.
      await this.setClaimPending(claim);
      return { requeueAfterMs: RESYNC_MS };
    }
    const className = claimClass(claim);
    const sc = className ? await this.storageClass(className) : undefined;
    const delay = isDelayBinding(sc);
    const selectedNode = claim.metadata.annotations?.[ANN_SELECTED_NODE];
    const node = selectedNode ? this.nodes.get(undefined, selectedNode) : undefined;
    const match = findBestMatch(claim, this.volumes.list(), { delayBinding: delay, node });
    if (match) {
      // Confirm the volume as the API has it now: another claim may have taken it since the cache saw it.
      const volume = await this.client.getIfExists<PersistentVolume>(volumePath(match.metadata.name));
      if (volume && (!volume.spec.claimRef || isVolumeBoundToClaim(volume, claim))) return this.bind(volume, claim);
      return { requeueAfterMs: 100 };
    }
    if (delay && !selectedNode) {
      this.tellOnce(claim, 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      await this.setClaimPending(claim);
      return;
    }
    if (!className) {
      this.tellOnce(claim, 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      await this.setClaimPending(claim);
      return { requeueAfterMs: RESYNC_MS };
    }
    await this.setClaimPending(claim);
    return this.provision(claim, className, sc);
  }

  /** Upstream's provisionClaim, then csi-provisioner's Provision for the class's own provisioner. */
  private async provision(claim: PersistentVolumeClaim, className: string, sc: StorageClass | undefined): Promise<{ requeueAfterMs?: number } | void> {
    if (!sc) {
      this.tellOnce(claim, 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`, this.events, 'Warning');
      return { requeueAfterMs: RESYNC_MS };
    }
    if (sc.provisioner.startsWith('kubernetes.io/')) {
      // In-tree provisioners (kubernetes.io/no-provisioner among them): none is built in here.
      this.tellOnce(claim, 'ProvisioningFailed', `no volume plugin matched name: ${sc.provisioner}`, this.events, 'Warning');
      return { requeueAfterMs: RESYNC_MS };
    }
    const annotations = claim.metadata.annotations ?? {};
    if (annotations[ANN_STORAGE_PROVISIONER] !== sc.provisioner || annotations[ANN_BETA_STORAGE_PROVISIONER] !== sc.provisioner) {
      claim = await this.client.patch<PersistentVolumeClaim>(claimPath(claim.metadata.namespace, claim.metadata.name), {
        metadata: {
          resourceVersion: claim.metadata.resourceVersion,
          annotations: { [ANN_STORAGE_PROVISIONER]: sc.provisioner, [ANN_BETA_STORAGE_PROVISIONER]: sc.provisioner },
        },
      });
    }
    this.tellOnce(
      claim,
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${sc.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
    if (sc.provisioner !== DISK_CSI_PROVISIONER) return { requeueAfterMs: RESYNC_MS }; // someone else's to make

    // csi-provisioner: the node the volume lives on.
    let node: string | undefined;
    if (isDelayBinding(sc)) {
      node = claim.metadata.annotations?.[ANN_SELECTED_NODE];
      if (node && !this.nodes.get(undefined, node) && !(await this.client.getIfExists(`/api/v1/nodes/${encodeURIComponent(node)}`))) {
        // The chosen node is gone: csi-provisioner gives the choice back to the scheduler.
        this.provisionerEvents.record(this.subject(claim), 'Warning', 'ProvisioningFailed', `failed to get target node: node "${node}" not found`);
        await this.client.patch(claimPath(claim.metadata.namespace, claim.metadata.name), { metadata: { annotations: { [ANN_SELECTED_NODE]: null } } });
        return;
      }
    } else {
      node = chooseNode(this.nodes.list(), this.volumes.list());
    }
    if (!node) {
      const message = `failed to provision volume with StorageClass "${className}": no Ready, schedulable node to place the volume on`;
      this.tellOnce(claim, 'ProvisioningFailed', message, this.provisionerEvents, 'Warning');
      return { requeueAfterMs: 5_000 };
    }
    const claimKey = `${claim.metadata.namespace}/${claim.metadata.name}`;
    this.tellOnce(claim, 'Provisioning', `External provisioner is provisioning volume for claim "${claimKey}"`, this.provisionerEvents);
    let volume: PersistentVolume;
    try {
      volume = await this.client.create<PersistentVolume>(VOLUMES, provisionedVolume(claim, sc, node));
    } catch (err) {
      if (!(err instanceof KubeApiError && err.reason === 'AlreadyExists')) {
        this.provisionerEvents.record(
          this.subject(claim),
          'Warning',
          'ProvisioningFailed',
          `failed to provision volume with StorageClass "${className}": ${(err as Error).message}`,
        );
        throw err;
      }
      // Made by an earlier pass (a crash, or a cache that had not shown it yet): named after the claim's uid, it is this claim's.
      const existing = await this.client.getIfExists<PersistentVolume>(volumePath(provisionedVolumeName(claim)));
      if (!existing) return { requeueAfterMs: 100 };
      return this.bind(existing, claim);
    }
    this.provisionerEvents.record(this.subject(claim), 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${volume.metadata.name}`);
    return this.bind(volume, claim);
  }

  private async syncBoundClaim(claim: PersistentVolumeClaim): Promise<void> {
    if (!claim.spec.volumeName) {
      await this.setClaimLost(claim, 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      return;
    }
    const volume = this.volumes.get(undefined, claim.spec.volumeName) ?? (await this.client.getIfExists<PersistentVolume>(volumePath(claim.spec.volumeName)));
    if (!volume) {
      await this.setClaimLost(claim, 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      return;
    }
    if (!volume.spec.claimRef?.uid || isVolumeBoundToClaim(volume, claim)) {
      // Finishes a binding a crash cut short, and restores a volume's lost claimRef.
      await this.bind(volume, claim);
      if (expansionTarget(claim, volume)) await this.expand(claim, volume.metadata.name);
      return;
    }
    await this.setClaimLost(claim, 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
  }

  /**
   * Upstream's bind: the volume's claimRef, its phase, the claim's volumeName and annotations, the claim's phase,
   * capacity and access modes. Each step is skipped when already done; each write carries the resourceVersion it
   * was decided on, so a volume another sync took meanwhile answers a conflict instead of being taken twice.
   */
  private async bind(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    const ref = volume.spec.claimRef;
    if (!ref?.uid || !isVolumeBoundToClaim(volume, claim)) {
      volume = await this.client.patch<PersistentVolume>(volumePath(volume.metadata.name), {
        metadata: { resourceVersion: volume.metadata.resourceVersion, ...(!ref && { annotations: { [ANN_BOUND_BY_CONTROLLER]: 'yes' } }) },
        spec: { claimRef: claimRefOf(claim) },
      });
    }
    if (volumePhase(volume) !== 'Bound') volume = await this.setVolumePhase(volume, 'Bound');
    const annotations = claim.metadata.annotations ?? {};
    const byController = !claim.spec.volumeName;
    if (claim.spec.volumeName !== volume.metadata.name || !annotations[ANN_BIND_COMPLETED] || (byController && !annotations[ANN_BOUND_BY_CONTROLLER])) {
      claim = await this.client.patch<PersistentVolumeClaim>(claimPath(claim.metadata.namespace, claim.metadata.name), {
        metadata: {
          resourceVersion: claim.metadata.resourceVersion,
          annotations: { [ANN_BIND_COMPLETED]: 'yes', ...(byController && { [ANN_BOUND_BY_CONTROLLER]: 'yes' }) },
        },
        spec: { volumeName: volume.metadata.name },
      });
    }
    const status = claim.status ?? {};
    const capacity = volume.spec.capacity ?? {};
    const modes = volume.spec.accessModes ?? [];
    if (
      claimPhase(claim) !== 'Bound' ||
      JSON.stringify(status.capacity ?? {}) !== JSON.stringify(capacity) ||
      JSON.stringify(status.accessModes ?? []) !== JSON.stringify(modes)
    ) {
      await this.client.patch(`${claimPath(claim.metadata.namespace, claim.metadata.name)}/status`, {
        status: { phase: 'Bound', capacity, accessModes: modes },
      });
    }
  }

  /**
   * csi-resizer for the volumes this controller provisions: a bound claim whose request grew (admission allowed it:
   * its class allows expansion) gets its volume's capacity raised, and its own status with it. A directory needs no
   * file system grown on the node, so the controller's part is the whole resize (`VolumeResizeSuccessful`).
   */
  private async expand(claim: PersistentVolumeClaim, volumeName: string): Promise<void> {
    // As the API has them now: the cache may not show the last resize yet, which must not be told twice.
    const volume = await this.client.getIfExists<PersistentVolume>(volumePath(volumeName));
    const fresh = await this.client.getIfExists<PersistentVolumeClaim>(claimPath(claim.metadata.namespace, claim.metadata.name));
    const target = volume && fresh && expansionTarget(fresh, volume);
    if (!volume || !fresh || !target) return;
    const resizer = this.resizerEvents;
    resizer.record(this.subject(fresh), 'Normal', 'Resizing', `External resizer is resizing volume ${volumeName}`);
    const status = `${claimPath(fresh.metadata.namespace, fresh.metadata.name)}/status`;
    await this.client.patch(status, { status: { allocatedResources: { storage: target } } });
    await this.client.patch(volumePath(volumeName), {
      metadata: { resourceVersion: volume.metadata.resourceVersion },
      spec: { capacity: { storage: target } },
    });
    await this.client.patch(status, { status: { capacity: { storage: target } } });
    resizer.record(this.subject(fresh), 'Normal', 'VolumeResizeSuccessful', 'Resize volume succeeded');
  }

  private async setClaimPending(claim: PersistentVolumeClaim): Promise<void> {
    if (claim.status?.phase === 'Pending') return;
    await this.client.patch(`${claimPath(claim.metadata.namespace, claim.metadata.name)}/status`, { status: { phase: 'Pending' } }).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }

  private async setClaimLost(claim: PersistentVolumeClaim, reason: string, message: string): Promise<void> {
    if (claimPhase(claim) === 'Lost') return;
    await this.client.patch(`${claimPath(claim.metadata.namespace, claim.metadata.name)}/status`, { status: { phase: 'Lost' } });
    this.events.record(this.subject(claim), 'Warning', reason, message);
  }

  // ---- volumes ----

  private async syncVolume(name: string): Promise<{ requeueAfterMs?: number } | void> {
    if (!this.synced()) return { requeueAfterMs: 100 };
    let volume = this.volumes.get(undefined, name);
    if (!volume) return;
    const ref = volume.spec.claimRef;
    let claim = ref?.namespace && ref.name ? this.claims.get(ref.namespace, ref.name) : undefined;
    if (ref?.uid && ref.namespace && ref.name && claim?.metadata.uid !== ref.uid) {
      // Never release a volume on the cache's word: the claim may be newer than the cache.
      claim = await this.client.getIfExists<PersistentVolumeClaim>(claimPath(ref.namespace, ref.name));
    }
    const action = volumeAction(volume, claim);
    switch (action.type) {
      case 'none':
        break;
      case 'phase':
        volume = await this.setVolumePhase(volume, action.phase);
        break;
      case 'release':
        volume = await this.setVolumePhase(volume, 'Released');
        break;
      case 'unbind': {
        const { [ANN_BOUND_BY_CONTROLLER]: _dropped, ...annotations } = volume.metadata.annotations ?? {};
        volume = await this.client.update<PersistentVolume>(volumePath(name), {
          ...volume,
          metadata: { ...volume.metadata, annotations },
          spec: { ...volume.spec, claimRef: null },
        });
        volume = await this.setVolumePhase(volume, 'Available');
        break;
      }
    }
    if (claim && !claim.spec.volumeName && isVolumeBoundToClaim(volume, claim)) this.claimQueue.add(`${claim.metadata.namespace}/${claim.metadata.name}`);
    if (volumePhase(volume) === 'Released') return this.reclaim(volume);
  }

  private async reclaim(volume: PersistentVolume): Promise<{ requeueAfterMs?: number } | void> {
    const action = reclaimAction(volume);
    switch (action.type) {
      case 'retain':
      case 'external':
        return;
      case 'fail':
        await this.setVolumePhase(volume, 'Failed', action.message);
        this.events.record(this.subject(volume), 'Warning', action.reason, action.message);
        return;
      case 'delete': {
        if (volume.metadata.deletionTimestamp) return;
        const wiped = await this.wipe(volume);
        if (wiped !== true) return wiped;
        try {
          // The uid as precondition: a volume of the same name made since is not this one.
          await this.client.delete(volumePath(volume.metadata.name), { preconditions: { uid: volume.metadata.uid } });
        } catch (err) {
          if (isNotFound(err) || (err instanceof KubeApiError && err.code === 409)) return;
          this.events.record(this.subject(volume), 'Warning', 'VolumeFailedDelete', (err as Error).message);
          throw err;
        }
      }
    }
  }

  /**
   * Wipes a provisioned volume's directory on its node before the volume goes (csi-provisioner's Delete: the disk is
   * deleted), with a pod on that node (see wipePod); true once done or nothing to do (not ours, or its node is gone
   * and the directory with it). Retried until the pod succeeds: a volume whose data may remain is never deleted.
   */
  private async wipe(volume: PersistentVolume): Promise<true | { requeueAfterMs: number }> {
    const location = provisionedLocation(volume);
    if (!location) return true;
    const podPath = `/api/v1/namespaces/${WIPE_NAMESPACE}/pods/${wipePodName(volume)}`;
    const removePod = () => this.client.delete(podPath, { gracePeriodSeconds: 0 }).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
    if (!this.nodes.get(undefined, location.node) && !(await this.client.getIfExists(`/api/v1/nodes/${encodeURIComponent(location.node)}`))) {
      await removePod();
      return true;
    }
    const pod = await this.client.getIfExists<WipePod>(podPath);
    if (!pod) {
      await this.client.create(`/api/v1/namespaces/${WIPE_NAMESPACE}/pods`, wipePod(volume, location)).catch((err: unknown) => {
        if (!(err instanceof KubeApiError && err.reason === 'AlreadyExists')) throw err;
      });
      return { requeueAfterMs: 500 };
    }
    switch (pod.status?.phase) {
      case 'Succeeded':
        await removePod();
        return true;
      case 'Failed': {
        const ended = pod.status.containerStatuses?.[0]?.state?.terminated;
        const why = ended ? `${ended.reason ?? 'exit'} ${ended.exitCode ?? ''} ${ended.message ?? ''}`.trim() : (pod.status.message ?? 'the pod failed');
        this.events.record(
          this.subject(volume),
          'Warning',
          'VolumeFailedDelete',
          `the volume's directory ${location.dir} on node ${location.node} could not be removed: ${why}`,
        );
        await removePod();
        return { requeueAfterMs: RESYNC_MS };
      }
      default:
        return { requeueAfterMs: 500 };
    }
  }

  private async setVolumePhase(volume: PersistentVolume, phase: NonNullable<PersistentVolume['status']>['phase'], message?: string): Promise<PersistentVolume> {
    return this.client.patch<PersistentVolume>(`${volumePath(volume.metadata.name)}/status`, { status: { phase, message: message ?? null } });
  }

  // ---- helpers ----

  private async storageClass(name: string): Promise<StorageClass | undefined> {
    return this.classes.get(undefined, name) ?? this.client.getIfExists<StorageClass>(`/apis/storage.k8s.io/v1/storageclasses/${encodeURIComponent(name)}`);
  }

  /**
   * An event that says the claim waits, told once per claim and message: a claim's periodic syncs repeat them, and
   * upstream's recorder folds the repeats into one event's count where this one would write a new event each time.
   */
  private tellOnce(claim: PersistentVolumeClaim, reason: string, message: string, recorder = this.events, type: 'Normal' | 'Warning' = 'Normal'): void {
    const key = `${claim.metadata.uid}/${reason}/${message}`;
    if (this.told.has(key)) return;
    this.told.add(key);
    recorder.record(this.subject(claim), type, reason, message);
  }

  private subject(obj: PersistentVolumeClaim | PersistentVolume) {
    return { ...obj, apiVersion: 'v1', kind: obj.metadata.namespace ? 'PersistentVolumeClaim' : 'PersistentVolume' };
  }
}
